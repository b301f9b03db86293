// quantizeModel(): one quantization job end to end — model, plan, calibration windows, the
// driver — writing a result folder (docs/result-folder.md) and/or a session run
// (docs/session-format.md), or resuming an interrupted session run.
#include "pipeline/QuantizeJob.h"

#include "core/Error.h"
#include "core/SettingError.h"
#include "core/Files.h"
#include "core/detail/DeviceMemory.h"
#include "core/detail/TorchDevice.h"
#include "data/Calibration.h"
#include "model/MemoryPlan.h"
#include "model/ModelSource.h"
#include "model/detail/LlamaModel.h"
#include "model/detail/WeightLoader.h"
#include "pipeline/QuantizeParamsJson.h"
#include "pipeline/detail/OverrideStart.h"
#include "pipeline/detail/Sequential.h"
#include "runs/ResultFolder.h"
#include "runs/detail/ResultFolderFiles.h"
#include "session/detail/RunJournal.h"
#include "session/detail/Sha256.h"
#include "tokenizer/ModelTokenizer.h"

#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <future>
#include <optional>

namespace mpq {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Streams weights from a checkpoint, one decoder layer at a time.
class CheckpointLayers : public detail::LayerProvider {
public:
    /// readAhead: while layer i is worked on, layer i + 1 is read into host memory on a thread of
    /// its own (one more layer in host memory, so not under a host memory limit; there the
    /// kernel's read-ahead is asked for instead).
    CheckpointLayers(const ModelSource& s, bool readAhead) : m_source(s), m_readAhead(readAhead) {}
    ~CheckpointLayers() override
    {
        if (m_next.valid())
            m_next.wait();
    }
    const ModelConfig& config() const override { return m_source.config(); }
    at::Tensor embedding(at::ScalarType dtype, const at::Device& device) override
    {
        return detail::loadTensor(m_source, llama::embedTensor(), dtype, device);
    }
    detail::LayerWeights layer(int64_t i, at::ScalarType dtype, const at::Device& device) override
    {
        detail::WeightOverrides read;
        if (m_next.valid()) {
            const int64_t expected = m_nextLayer;
            read = m_next.get(); // a read error surfaces here
            if (expected != i)
                read.clear();
        }
        detail::LayerWeights w = detail::loadLayer(m_source, i, dtype, device, read.empty() ? nullptr : &read);
        read.clear();
        if (i + 1 < m_source.config().numLayers) {
            if (m_readAhead) {
                m_nextLayer = i + 1;
                m_next = std::async(std::launch::async,
                                    [this, j = i + 1] { return detail::readLayerToHost(m_source, j); });
            } else {
                detail::prefetchLayer(m_source, i + 1);
            }
        }
        return w;
    }

private:
    const ModelSource& m_source;
    bool m_readAhead = false;
    int64_t m_nextLayer = -1;
    std::future<detail::WeightOverrides> m_next;
};

session::ModelReference modelReference(const ModelSource& source)
{
    session::ModelReference m;
    m.path = source.path();
    m.configJson = source.config().toJson();
    for (const auto& f : source.weightFiles())
        m.sha256.emplace_back(files::absolute(f), session::detail::sha256File(f));
    return m;
}

/// A resumed run must see the same weights: same architecture and the same bytes.
void checkSameModel(const session::ModelReference& stored, const session::ModelReference& now,
                    const std::string& run)
{
    if (!stored.sameArchitecture(now.configJson) || stored.sha256 != now.sha256)
        throw Error(run + ": the model at " + now.path +
                    " is not the one this run started from (its configuration or weight files' SHA-256 "
                    "differ); a resumed run would not match, start a new run instead");
}

std::string reportJson(const QuantizeReport& r, const std::string& status)
{
    nlohmann::json j = nlohmann::json::parse(quantizeReportFiguresJson(r));
    j["status"] = status;
    j["resumed_layers"] = r.resumedLayers;
    return j.dump();
}

} // namespace


QuantizeReport quantizeModel(const QuantizeParams& given, JobContext& ctx)
{
    return detail::quantizeModelFrom(given, ctx, nullptr);
}

QuantizeReport detail::quantizeModelFrom(const QuantizeParams& given, JobContext& ctx, const OverrideStart* start)
{
    const auto tStart = Clock::now();
    QuantizeParams p = given;

    // Resume: the stored run decides everything but the result folder.
    std::unique_ptr<session::detail::RunJournal> journal;
    session::detail::RunHeader header;
    detail::ResumeState resume;
    if (p.resume) {
        if (p.session.empty())
            throw Error("resume: no session given");
        journal = session::detail::RunJournal::resume(p.session, p.runName, header, resume, &ctx);
        QuantizeParams stored = quantizeParamsFromJson(header.settingsJson, p.session + "#" + header.name);
        stored.session = p.session;
        stored.runName = header.name;
        stored.resume = true;
        stored.out = p.out;
        if (!header.inputPlanJson.empty())
            stored.plan = AllocationPlan::fromJson(header.inputPlanJson, p.session + "#" + header.name);
        stored.extraJson = header.extraJson;
        p = stored;
    }

    checkDevice(p.device);
    if (p.out.empty() && p.session.empty())
        throw SettingError({"out", "session"}, "no output given: a result folder or a session");
    if (p.method != "rtn" && p.method != "gptq" && p.method != "hqq")
        throw Error("unknown method \"" + p.method + "\" (rtn, gptq or hqq)");
    if (!p.plan && (p.bits < 1 || p.bits > 8))
        throw SettingError("bits", "bits must be in 1..8");
    if (p.groupSize == 0 || p.groupSize < -1)
        throw SettingError("groupSize", "the group size must be positive (or -1 for per-channel)");
    if (!p.out.empty() && files::exists(p.out) && !files::isDirectory(p.out))
        throw Error(p.out + ": exists and is not a folder");
    if (!p.session.empty() && files::isDirectory(p.session))
        throw Error(p.session + ": is a folder; a session is a file (e.g. run.h5)");
    if (!p.runName.empty())
        session::checkRunName(p.runName);
    if (!p.resume && !p.session.empty() && files::exists(p.session)) {
        // Refuse damaged or foreign files and taken names before any work.
        const session::Session existing = session::Session::open(p.session);
        for (const auto& r : existing.runs())
            if (r.name == p.runName)
                throw SettingError({"runName", "resume"}, p.session + ": a run named \"" + p.runName +
                                                              "\" already exists; choose another run name, or "
                                                              "resume " + p.session + "#" + p.runName);
    }

    const ModelSource source = ModelSource::open(p.model, p.tokenizer);
    for (const auto& note : source.notes())
        ctx.warn(note);
    const ModelConfig& cfg = source.config();
    const AllocationPlan plan = p.plan ? *p.plan
                                       : AllocationPlan::uniform(cfg, p.bits, p.groupSize, p.method);
    for (const auto& m : plan.matrices) {
        const TensorEntry& t = source.tensor(m.tensor);
        if (t.shape.size() != 2 || m.rows != t.shape[0] || m.cols != t.shape[1])
            throw Error("allocation plan: " + m.tensor + " has shape " + std::to_string(m.rows) + "x" +
                        std::to_string(m.cols) + " but the model's differs");
    }
    const std::string method =
        !p.allocator.empty() ? p.allocator : plan.method == "uniform" ? p.method : plan.method;

    // HQQ (uniform or MXQ's plan) is data-free: no calibration, no Hessians.
    bool dataFree = p.allocator.empty();
    for (const auto& m : plan.matrices)
        dataFree = dataFree && (m.quantizer == "hqq" || m.quantizer == "ggml");

    // Calibration windows (the tokenizer is needed only when they are drawn, not when reused).
    const auto tCal = Clock::now();
    CalibrationSet calib;
    if (dataFree) {
        // nothing to draw
    } else if (start) {
        calib = start->calibration;
    } else if (p.resume) {
        if (header.windows <= 0)
            throw Error(p.session + "#" + header.name + ": the run has no stored calibration windows");
        for (int64_t i = 0; i < header.windows; ++i)
            calib.windows.emplace_back(header.tokens.begin() + long(i * header.length),
                                       header.tokens.begin() + long((i + 1) * header.length));
        calib.sourcePath = header.calibrationSource;
        calib.description = header.calibrationDescription;
    } else if (p.calibTokens.empty()) {
        CalibrationParams cp;
        cp.source = p.calib;
        cp.nsamples = p.nsamples;
        cp.seqlen = std::min(p.seqlen, cfg.maxPositions);
        cp.seed = p.seed;
        cp.dataDir = p.dataDir;
        calib = sampleCalibration(cp, *openModelTokenizer(source), ctx);
    } else {
        calib = loadCalibrationTokens(p.calibTokens, int32_t(cfg.vocabSize));
    }

    // Memory: the batch that fits the limits, or a refusal before any weight is read.
    const QuantizeMemoryPlan memory = planQuantizeMemory(
        cfg, p.dtype ? *p.dtype : (p.device.rfind("cuda", 0) == 0 ? DType::F16 : DType::F32), p.device,
        int64_t(calib.windows.size()), calib.windows.empty() ? 0 : int64_t(calib.windows[0].size()), p.batchSize,
        dataFree, p.budget);
    if (p.batchSize <= 0 && (p.budget.limitsHost() || p.budget.limitsDevice()))
        p.batchSize = memory.batch;

    QuantizeReport report;
    report.plannedHostBytes = memory.hostBytes;
    report.plannedDeviceBytes = memory.deviceBytes;
    report.memoryPlan = memory.breakdown;
    report.batch = p.batchSize > 0 ? p.batchSize : automaticQuantizeBatch(p.device);
    report.calibrationSeconds = since(tCal);
    report.deviceName = deviceDescription(p.device);
    const at::Device device = detail::torchDevice(p.device);
    c10::InferenceMode guard;
    detail::resetPeakDeviceBytes(device);
    if (p.budget.limitsHost())
        returnFreedMemoryPromptly();
    resetPeakHostBytes();
    report.startHostBytes = currentHostBytes();
    const at::ScalarType act =
        detail::scalarType(p.dtype ? *p.dtype : (device.is_cuda() ? DType::F16 : DType::F32));
    const int64_t n = int64_t(calib.windows.size());
    const int64_t T = n ? int64_t(calib.windows[0].size()) : 0;

    // The session run: a new one, or the resumed one after checking it is the same model.
    if (!p.session.empty()) {
        const session::ModelReference model = modelReference(source);
        if (p.resume) {
            checkSameModel(header.model, model, p.session + "#" + header.name);
        } else {
            header.name = p.runName;
            header.method = method;
            header.layersTotal = cfg.numLayers;
            header.model = model;
            header.settingsJson = quantizeParamsToJson(p);
            if (start) { // what was overridden, beside the settings it ran with
                nlohmann::json settings = nlohmann::json::parse(header.settingsJson);
                settings["override"] = nlohmann::json::parse(start->recordJson);
                header.settingsJson = settings.dump();
            }
            if (p.plan)
                header.inputPlanJson = p.plan->toJson();
            header.extraJson = p.extraJson;
            header.windows = n;
            header.length = T;
            for (const auto& w : calib.windows)
                header.tokens.insert(header.tokens.end(), w.begin(), w.end());
            header.calibrationSource = calib.sourcePath;
            header.calibrationDescription = calib.description;
            journal = start ? session::detail::RunJournal::startFrom(p.session, header, start->base,
                                                                     start->fromLayer, resume)
                            : session::detail::RunJournal::start(p.session, header);
        }
        report.sessionRun = p.session + "#" + journal->name();
    }
    report.resumedLayers = int64_t(resume.layers.size());

    // The result folder is written into a temporary sibling folder and renamed at the end: a
    // cancelled or failed run leaves no half-written result under the requested name.
    std::optional<detail::ResultFolderWriter> folder;
    if (!p.out.empty()) {
        folder.emplace(files::absolute(p.out));
        if (!dataFree)
            folder->writeCalibration(calib);
        for (const auto& r : resume.layers)
            folder->addLayer(r);
    }

    CheckpointLayers provider(source, !p.budget.limitsHost());
    detail::LayerSink sink;
    sink.layer = [&](detail::LayerRecord& r) {
        if (folder)
            folder->addLayer(r);
        if (journal)
            journal->addLayer(r);
    };
    if (journal)
        sink.hessian = [&](int64_t layer, int group, const at::Tensor& H, const std::vector<MatrixPlan>&) {
            journal->addHessian(layer, group, H, p.mgptq, p.storeHessianLimit, p.viewTopK, ctx);
        };
    const detail::ResumeState* resumeState = p.resume || start ? &resume : nullptr;
    try {
        if (dataFree) {
            detail::runDataFree(provider, plan, p, ctx, sink, report, resumeState);
        } else {
            const auto allocator =
                detail::makeColumnAllocator(p.allocator, p.mgptq, p.symmetric, p.actOrder, p.staticGroups);
            detail::runSequential(provider, calib.windows, plan, p, ctx, sink, report, allocator.get(),
                                  resumeState);
        }
    } catch (const Cancelled&) {
        // The session keeps the finished layers, resumable; the result folder is dropped.
        report.seconds = since(tStart);
        if (journal)
            journal->finish("cancelled", reportJson(report, "cancelled"), ctx.warnings());
        throw;
    } catch (const std::exception& e) {
        report.seconds = since(tStart);
        if (journal) {
            try {
                ctx.warn(std::string("the run failed: ") + e.what());
                journal->finish("failed", reportJson(report, "failed"), ctx.warnings());
            } catch (const std::exception&) {
                // the journal stays; the run reads as interrupted and can be resumed
            }
        }
        throw;
    }
    report.seconds = since(tStart);
    report.warnings = ctx.warnings();

    if (folder) {
        ResultDescription d;
        d.model = source.path();
        d.method = method;
        nlohmann::json settings = {
            {"bits", p.bits},          {"group_size", p.groupSize},     {"act_order", p.actOrder},
            {"static_groups", p.staticGroups}, {"symmetric", p.symmetric}, {"damp_percent", p.dampPercent},
            {"block_size", p.blockSize}, {"calib", p.calib},          {"nsamples", n},
            {"seqlen", T},             {"seed", p.seed},               {"device", p.device},
            {"activation_dtype", std::string(c10::toString(act))}};
        if (source.config().moe.numExperts > 0)
            settings["expert_min_tokens"] = p.expertMinTokens;
        d.settingsJson = settings.dump();
        d.hasCalibration = !dataFree;
        d.calibrationSource = calib.sourcePath;
        d.calibrationDescription = calib.description;
        d.planJson = report.appliedPlan.toJson();
        d.extraJson = p.extraJson;
        d.avgBits = report.avgBits;
        d.avgBitsWithOverhead = report.avgBitsWithOverhead;
        d.seconds = report.seconds;
        d.sessionRun = report.sessionRun;
        d.matrices = report.matrices;
        d.warnings = report.warnings;
        folder->writeDescription(d);
    }
    if (journal)
        journal->finish("complete", reportJson(report, "complete"), report.warnings);
    if (folder)
        report.outDir = folder->commit();
    return report;
}

} // namespace mpq
