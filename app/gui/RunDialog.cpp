#include "RunDialog.h"

#include "alloc/mxq/MxqProblem.h"
#include "core/Device.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <cmath>

namespace mpq::gui {

RunDialog::RunDialog(QWidget* parent) : QDialog(parent)
{
    setWindowTitle(tr("Quantize"));
    const QuantizeParams defaults;   // the engine's (and `mpq quantize`'s) defaults
    const MgptqOptions mgDefaults;
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    m_method = new QComboBox(this);
    m_method->addItem(tr("GPTQ (uniform bits)"), QStringLiteral("gptq"));
    m_method->addItem(tr("MG-PTQ (graph-neural per-column bits, then GPTQ)"), QStringLiteral("mgptq"));
    m_method->addItem(tr("MXQ (one HQQ configuration per matrix by MIP, under a memory budget)"),
                      QStringLiteral("mxq"));
    m_method->addItem(tr("RTN (round to nearest)"), QStringLiteral("rtn"));
    m_method->addItem(tr("HQQ (data-free, uniform bits)"), QStringLiteral("hqq"));
    form->addRow(tr("Method"), m_method);
    m_axis = new QComboBox(this);
    m_axis->addItem(tr("target average bits"), QStringLiteral("target-bits"));
    m_axis->addItem(tr("fixed α (bit penalty)"), QStringLiteral("alpha"));
    form->addRow(tr("MG-PTQ knob"), m_axis);
    m_values = new QLineEdit(QStringLiteral("4"), this);
    m_values->setToolTip(tr("One value, or a comma-separated list for a sweep"));
    m_valuesHint = new QLabel(this);
    form->addRow(tr("Value(s)"), m_values);
    form->addRow(QString(), m_valuesHint);
    m_groupSize = new QSpinBox(this);
    m_groupSize->setRange(-1, 4096);
    m_groupSize->setValue(int(defaults.groupSize));
    m_groupSize->setSpecialValueText(tr("per output channel"));
    form->addRow(tr("Group size"), m_groupSize);
    m_actOrder = new QCheckBox(tr("quantize columns by decreasing Hessian diagonal"), this);
    form->addRow(tr("Act-order"), m_actOrder);
    m_symmetric = new QCheckBox(tr("symmetric grid"), this);
    form->addRow(tr("Grid"), m_symmetric);
    m_calib = new QLineEdit(QString::fromStdString(defaults.calib), this);
    m_calib->setToolTip(tr("c4, wikitext2, a text / JSON-lines file, self (text sampled from the model itself), "
                            "or a mixture such as c4+self (windows alternate)"));
    form->addRow(tr("Calibration"), m_calib);
    m_nsamples = new QSpinBox(this);
    m_nsamples->setRange(1, 4096);
    m_nsamples->setValue(int(defaults.nsamples));
    form->addRow(tr("Calibration windows"), m_nsamples);
    m_seqlen = new QSpinBox(this);
    m_seqlen->setRange(8, 32768);
    m_seqlen->setValue(int(defaults.seqlen));
    form->addRow(tr("Tokens per window"), m_seqlen);
    m_device = new QComboBox(this);
    // CPU and every CUDA device this LibTorch sees (CPU only with a CPU-only LibTorch).
    for (const DeviceChoice& d : availableDevices()) {
        const QString id = QString::fromStdString(d.id);
        m_device->addItem(QStringLiteral("%1 — %2").arg(id, QString::fromStdString(d.description)), id);
    }
    m_device->setToolTip(tr("Where the job runs (the main window's device by default)"));
    form->addRow(tr("Device"), m_device);
    layout->addLayout(form);

    m_mgptq = new QGroupBox(tr("MG-PTQ allocator"), this);
    auto* mgForm = new QFormLayout(m_mgptq);
    m_gnn = new QComboBox(m_mgptq);
    m_gnn->addItem(tr("GCN (MG-PTQ)"), QStringLiteral("gcn"));
    m_gnn->addItem(tr("MLP (ablation without the graph)"), QStringLiteral("mlp"));
    m_gnn->addItem(tr("Hessian-greedy (baseline)"), QStringLiteral("hessian-greedy"));
    mgForm->addRow(tr("Network"), m_gnn);
    QStringList bits;
    for (int b : mgDefaults.bitsSet)
        bits << QString::number(b);
    m_bitsSet = new QLineEdit(bits.join(QLatin1Char(',')), m_mgptq);
    mgForm->addRow(tr("Candidate bits"), m_bitsSet);
    m_epochs = new QSpinBox(m_mgptq);
    m_epochs->setRange(0, 100000);
    m_epochs->setSpecialValueText(tr("auto"));
    m_epochs->setToolTip(tr("auto: 50 with a target and the stable rounding (the network only starts the "
                            "relaxed solve), else 200"));
    m_epochs->setValue(mgDefaults.epochs);
    mgForm->addRow(tr("Epochs per matrix"), m_epochs);
    layout->addWidget(m_mgptq);

    m_mxq = new QGroupBox(tr("MXQ"), this);
    auto* mxForm = new QFormLayout(m_mxq);
    m_configs = new QLineEdit(QStringLiteral("2,3,4,8x32,64,128"), m_mxq);
    m_configs->setToolTip(tr("Candidate configurations: bit-widths x group sizes"));
    mxForm->addRow(tr("Configurations"), m_configs);
    m_mxqCost = new QComboBox(m_mxq);
    m_mxqCost->addItem(tr("auto: probed with calibration data, else fnorm"), QStringLiteral("auto"));
    m_mxqCost->addItem(tr("fnorm (data-free, the paper's)"), QStringLiteral("fnorm"));
    m_mxqCost->addItem(tr("relative (data-free)"), QStringLiteral("relative"));
    m_mxqCost->addItem(tr("relative-mse (data-free)"), QStringLiteral("relative-mse"));
    m_mxqCost->addItem(tr("hessian (calibration)"), QStringLiteral("hessian"));
    m_mxqCost->addItem(tr("relative-hessian (calibration)"), QStringLiteral("relative-hessian"));
    m_mxqCost->addItem(tr("sensitivity (calibration)"), QStringLiteral("sensitivity"));
    m_mxqCost->addItem(tr("probed (calibration: plans measured)"), QStringLiteral("probed"));
    m_mxqCost->setToolTip(
        tr("What the program minimises. probed solves the program of every cost (also with a floor, "
           "and over two configurations around the budget) and keeps the plan with the lowest "
           "calibration loss (8 + 8 windows of 512 tokens of the calibration set "
           "above); auto takes it where the set is found and the model fits twice in fp32, else "
           "the data-free fnorm (docs/mxq.md)"));
    mxForm->addRow(tr("Cost"), m_mxqCost);
    layout->addWidget(m_mxq);

    auto* evalBox = new QGroupBox(tr("Evaluate each point (perplexity, GPTQ protocol)"), this);
    auto* evalForm = new QFormLayout(evalBox);
    m_evalWiki = new QCheckBox(QStringLiteral("WikiText-2"), evalBox);
    m_evalWiki->setChecked(true);
    m_evalC4 = new QCheckBox(QStringLiteral("C4"), evalBox);
    m_evalC4->setChecked(true);
    evalForm->addRow(m_evalWiki, m_evalC4);
    m_evalWindows = new QSpinBox(evalBox);
    m_evalWindows->setRange(0, 100000);
    m_evalWindows->setSpecialValueText(tr("all"));
    evalForm->addRow(tr("Windows"), m_evalWindows);
    layout->addWidget(evalBox);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Run"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    connect(m_method, &QComboBox::currentIndexChanged, this, &RunDialog::updateVisibility);
    connect(m_axis, &QComboBox::currentIndexChanged, this, &RunDialog::updateVisibility);
    updateVisibility();
}

void RunDialog::updateVisibility()
{
    const QString m = m_method->currentData().toString();
    const bool mg = m == QLatin1String("mgptq");
    m_mgptq->setVisible(mg);
    m_axis->setEnabled(mg);
    m_mxq->setVisible(m == QLatin1String("mxq"));
    if (mg && m_axis->currentData().toString() == QLatin1String("alpha"))
        m_valuesHint->setText(tr("α, e.g. 0.01,0.1,1 (0 = every column at the highest width)"));
    else if (mg)
        m_valuesHint->setText(tr("average code bits, e.g. 2.25,2.5,3"));
    else if (m == QLatin1String("mxq"))
        m_valuesHint->setText(tr("memory budget in bits per weight incl. scales and zeros, e.g. 3.25,3.5,4"));
    else
        m_valuesHint->setText(tr("bit-width(s) 1..8, e.g. 4,3"));
}

QVariantMap RunDialog::state() const
{
    return {{QStringLiteral("method"), m_method->currentData()},
            {QStringLiteral("axis"), m_axis->currentData()},
            {QStringLiteral("values"), m_values->text()},
            {QStringLiteral("groupSize"), m_groupSize->value()},
            {QStringLiteral("actOrder"), m_actOrder->isChecked()},
            {QStringLiteral("symmetric"), m_symmetric->isChecked()},
            {QStringLiteral("calib"), m_calib->text()},
            {QStringLiteral("nsamples"), m_nsamples->value()},
            {QStringLiteral("seqlen"), m_seqlen->value()},
            {QStringLiteral("device"), m_device->currentData()},
            {QStringLiteral("network"), m_gnn->currentData()},
            {QStringLiteral("bitsSet"), m_bitsSet->text()},
            {QStringLiteral("epochs"), m_epochs->value()},
            {QStringLiteral("configs"), m_configs->text()},
            {QStringLiteral("mxqCost"), m_mxqCost->currentData()},
            {QStringLiteral("evalWikitext2"), m_evalWiki->isChecked()},
            {QStringLiteral("evalC4"), m_evalC4->isChecked()},
            {QStringLiteral("evalWindows"), m_evalWindows->value()}};
}

void RunDialog::restoreState(const QVariantMap& st)
{
    const auto data = [&](QComboBox* box, const char* key) {
        if (st.contains(QLatin1String(key))) {
            const int i = box->findData(st.value(QLatin1String(key)));
            if (i >= 0)
                box->setCurrentIndex(i);
        }
    };
    const auto text = [&](QLineEdit* edit, const char* key) {
        if (st.contains(QLatin1String(key)))
            edit->setText(st.value(QLatin1String(key)).toString());
    };
    const auto number = [&](QSpinBox* spin, const char* key) {
        if (st.contains(QLatin1String(key)))
            spin->setValue(st.value(QLatin1String(key)).toInt());
    };
    const auto check = [&](QCheckBox* box, const char* key) {
        if (st.contains(QLatin1String(key)))
            box->setChecked(st.value(QLatin1String(key)).toBool());
    };
    data(m_method, "method");
    data(m_axis, "axis");
    text(m_values, "values");
    number(m_groupSize, "groupSize");
    check(m_actOrder, "actOrder");
    check(m_symmetric, "symmetric");
    text(m_calib, "calib");
    number(m_nsamples, "nsamples");
    number(m_seqlen, "seqlen");
    data(m_device, "device");
    data(m_gnn, "network");
    text(m_bitsSet, "bitsSet");
    number(m_epochs, "epochs");
    text(m_configs, "configs");
    data(m_mxqCost, "mxqCost");
    check(m_evalWiki, "evalWikitext2");
    check(m_evalC4, "evalC4");
    number(m_evalWindows, "evalWindows");
    updateVisibility();
}

void RunDialog::preset(const QString& method, const std::vector<double>& values)
{
    const int i = m_method->findData(method);
    if (i >= 0)
        m_method->setCurrentIndex(i);
    QStringList text;
    for (double v : values)
        text << QString::number(v, 'g', 4);
    m_values->setText(text.join(QLatin1Char(',')));
}

std::optional<JobRequest> RunDialog::request(const QString& model, const QString& dataDir, QString* error) const
{
    JobRequest r;
    r.method = m_method->currentData().toString();
    const bool mg = r.method == QLatin1String("mgptq");
    r.axis = mg ? m_axis->currentData().toString() : r.method == QLatin1String("mxq") ? QStringLiteral("budget")
                                                                                    : QStringLiteral("bits");
    r.values.clear();
    for (const QString& part : m_values->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const double v = part.trimmed().toDouble(&ok);
        if (!ok) {
            *error = tr("\"%1\" is not a number").arg(part.trimmed());
            return std::nullopt;
        }
        if (r.axis == QLatin1String("bits") && (v < 1 || v > 8 || v != std::floor(v))) {
            *error = tr("bit-widths must be whole numbers in 1..8 (got %1)").arg(part.trimmed());
            return std::nullopt;
        }
        r.values.push_back(v);
    }
    if (r.values.empty()) {
        *error = tr("give at least one value");
        return std::nullopt;
    }
    QuantizeParams& p = r.params;
    p.model = model.toStdString();
    p.dataDir = dataDir.toStdString();
    p.groupSize = m_groupSize->value() == 0 ? -1 : m_groupSize->value();
    p.actOrder = m_actOrder->isChecked();
    p.symmetric = m_symmetric->isChecked();
    p.calib = m_calib->text().trimmed().toStdString();
    p.nsamples = m_nsamples->value();
    p.seqlen = m_seqlen->value();
    p.device = m_device->currentData().toString().toStdString();
    if (mg) {
        p.mgptq.model = m_gnn->currentData().toString().toStdString();
        p.mgptq.epochs = m_epochs->value();
        p.mgptq.bitsSet.clear();
        for (const QString& b : m_bitsSet->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            bool ok = false;
            const int v = b.trimmed().toInt(&ok);
            if (!ok || v < 1 || v > 8) {
                *error = tr("candidate bits must be whole numbers in 1..8 (got \"%1\")").arg(b.trimmed());
                return std::nullopt;
            }
            p.mgptq.bitsSet.push_back(v);
        }
        if (p.mgptq.bitsSet.empty()) {
            *error = tr("give at least one candidate bit-width");
            return std::nullopt;
        }
    }
    if (r.method == QLatin1String("mxq")) {
        try {
            r.mxqConfigs = parseMxqConfigs(m_configs->text().trimmed().toStdString());
            r.mxqCost = m_mxqCost->currentData().toString();
        } catch (const std::exception& e) {
            *error = QString::fromStdString(e.what());
            return std::nullopt;
        }
    }
    if (m_evalWiki->isChecked())
        r.evalDatasets << QStringLiteral("wikitext2");
    if (m_evalC4->isChecked())
        r.evalDatasets << QStringLiteral("c4");
    r.eval.seqlen = p.seqlen;
    r.eval.maxWindows = m_evalWindows->value();
    r.eval.dtype = p.device == "cpu" ? DType::F32 : DType::F16;
    return r;
}

} // namespace mpq::gui
