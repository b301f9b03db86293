#include "DemoPlan.h"

#include "core/Error.h"
#include "demo/DemoModel.h"
#include "demo/SyntheticModel.h"

#include <QDir>
#include <QFileInfo>

namespace mpq::gui {

namespace {

JobRequest base(const DemoPlan& plan, const QString& dataDir)
{
    JobRequest r;
    r.params.model = plan.model.toStdString();
    r.params.dataDir = dataDir.toStdString();
    r.params.nsamples = 16;
    r.params.seqlen = 128;
    r.params.mgptq.epochs = 40; // the demo trades some allocation quality for speed (docs/gui.md)
    r.eval.seqlen = 256;
    r.eval.maxWindows = 8;
    r.eval.c4Documents = 200;
    if (!plan.demoValid.isEmpty()) {
        // The embedded model: its own texts, 128-token windows (all it was trained on), every
        // window of demo-valid.txt evaluated (163 windows, under a second on a CPU).
        r.params.seqlen = DemoModel::kSeqlen;
        r.params.calib = plan.demoCalib.toStdString();
        r.eval.seqlen = DemoModel::kSeqlen;
        r.eval.maxWindows = 0;
        r.evalDatasets = {plan.demoValid};
    } else if (plan.synthetic) {
        r.params.calibTokens = syntheticCalibrationFile(plan.model.toStdString());
    } else {
        r.evalDatasets = {QStringLiteral("wikitext2"), QStringLiteral("c4")};
        const QString stories = QDir(dataDir).filePath(QStringLiteral("tinystories/tinystories-valid-head45.txt"));
        r.params.calib = plan.model.contains(QLatin1String("stories")) && QFileInfo::exists(stories)
                             ? stories.toStdString()
                             : std::string("c4");
    }
    return r;
}

} // namespace

DemoPlan DemoPlan::make(const QString& dataDir, const QString& syntheticDir)
{
    DemoPlan plan;
    try {
        const DemoModel demo = findDemoModel();
        plan.model = QString::fromStdString(demo.dir);
        plan.demoValid = QString::fromStdString(demo.validText);
        plan.demoCalib = QString::fromStdString(demo.calibText);
        plan.label = QStringLiteral("embedded demo LLaMA (0.33 M parameters, trained on generated stories)");
    } catch (const Error&) {
        // Not found (MPQ_DEMO_DIR elsewhere, an installation without share/): the data
        // directory's models, else the synthetic one, as before the demo model was embedded.
    }
    const QString stories = QDir(dataDir).filePath(QStringLiteral("models/stories260K/stories260K.bin"));
    const QString llama42 = QDir(dataDir).filePath(QStringLiteral("models/mpq-llama-42m"));
    if (!plan.model.isEmpty()) {
        // the embedded model, found above
    } else if (!dataDir.isEmpty() && QFileInfo::exists(stories)) {
        plan.model = stories;
        plan.label = QStringLiteral("stories260K (real model)");
    } else if (!dataDir.isEmpty() && QFileInfo::exists(QDir(llama42).filePath(QStringLiteral("config.json")))) {
        plan.model = llama42;
        plan.label = QStringLiteral("mpq-llama-42m (real model)");
    } else {
        writeSyntheticModel(SyntheticDemoSpec{}, syntheticDir.toStdString());
        plan.model = syntheticDir;
        plan.synthetic = true;
        plan.label = QStringLiteral("SYNTHETIC LLaMA (random weights, no tokenizer: no perplexity)");
    }

    if (!plan.synthetic) {
        JobRequest ref = base(plan, dataDir);
        ref.kind = JobRequest::Kind::Reference;
        plan.jobs.push_back(ref);
    }
    JobRequest gptq = base(plan, dataDir);
    gptq.method = QStringLiteral("gptq");
    gptq.axis = QStringLiteral("bits");
    gptq.values = {4, 3};
    plan.jobs.push_back(gptq);

    JobRequest mg = base(plan, dataDir);
    mg.method = QStringLiteral("mgptq");
    mg.axis = QStringLiteral("target-bits");
    mg.values = {3.0, 2.5};
    plan.jobs.push_back(mg);
    return plan;
}

} // namespace mpq::gui
