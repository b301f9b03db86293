// quantizeModel(): one quantization job end to end — model, plan, calibration windows, the
// driver — writing a result folder (docs/result-folder.md) and/or a session run
// (docs/session-format.md), or resuming an interrupted session run.
#include "pipeline/QuantizeJob.h"

#include "core/Error.h"
#include "core/Files.h"
#include "core/SettingError.h"
#include "core/detail/DeviceMemory.h"
#include "core/detail/TorchDevice.h"
#include "data/Calibration.h"
#include "eval/ModelSampler.h"
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

/// A job's session side: the run's journal and header, and the layers a resumed run stored.
struct SessionSide {
    std::unique_ptr<session::detail::RunJournal> journal;
    session::detail::RunHeader header;
    detail::ResumeState resume;
};

/// Resume: the stored run decides every setting but the result folder.
QuantizeParams resumedParams(const QuantizeParams& given, SessionSide& side, JobContext& ctx)
{
    if (given.session.empty())
        throw Error("resume: no session given");
    side.journal = session::detail::RunJournal::resume(given.session, given.runName, side.header, side.resume, &ctx);
    const std::string run = given.session + "#" + side.header.name;
    QuantizeParams stored = quantizeParamsFromJson(side.header.settingsJson, run);
    stored.session = given.session;
    stored.runName = side.header.name;
    stored.resume = true;
    stored.out = given.out;
    if (!side.header.inputPlanJson.empty())
        stored.plan = AllocationPlan::fromJson(side.header.inputPlanJson, run);
    stored.solver = side.header.solver;
    return stored;
}

/// The settings and outputs checked before any work: device, method, bits, group size, and
/// output paths that can be written (a session file's runs are read to refuse a taken name).
void validateJob(const QuantizeParams& p)
{
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
}

/// The job's plan (the given one, else uniform), checked against the model's shapes.
AllocationPlan checkedPlan(const QuantizeParams& p, const ModelSource& source)
{
    AllocationPlan plan = p.plan ? *p.plan : AllocationPlan::uniform(source.config(), p.bits, p.groupSize, p.method);
    for (const auto& m : plan.matrices) {
        const TensorEntry& t = source.tensor(m.tensor);
        if (t.shape.size() != 2 || m.rows != t.shape[0] || m.cols != t.shape[1])
            throw Error("allocation plan: " + m.tensor + " has shape " + std::to_string(m.rows) + "x" +
                        std::to_string(m.cols) + " but the model's differs");
    }
    return plan;
}

/// HQQ (uniform or MXQ's plan) and llama.cpp's types are data-free: no calibration, no Hessians.
bool isDataFree(const QuantizeParams& p, const AllocationPlan& plan)
{
    bool dataFree = p.allocator.empty();
    for (const auto& m : plan.matrices)
        dataFree = dataFree && (m.quantizer == "hqq" || m.quantizer == "ggml");
    return dataFree;
}

/// The calibration windows: none (data-free), an override's, a resumed run's stored windows, a
/// tokens file, or drawn from the calibration source (the tokenizer is opened only then).
CalibrationSet calibrationFor(const QuantizeParams& p, const ModelSource& source, bool dataFree,
                              const detail::OverrideStart* start, const session::detail::RunHeader& header,
                              JobContext& ctx)
{
    CalibrationSet calib;
    if (dataFree)
        return calib;
    if (start)
        return start->calibration;
    if (p.resume) {
        if (header.windows <= 0)
            throw Error(p.session + "#" + header.name + ": the run has no stored calibration windows");
        for (int64_t i = 0; i < header.windows; ++i)
            calib.windows.emplace_back(header.tokens.begin() + long(i * header.length),
                                       header.tokens.begin() + long((i + 1) * header.length));
        calib.sourcePath = header.calibrationSource;
        calib.description = header.calibrationDescription;
        return calib;
    }
    if (!p.calibTokens.empty())
        return loadCalibrationTokens(p.calibTokens, int32_t(source.config().vocabSize));
    CalibrationParams cp;
    cp.source = p.calib;
    cp.nsamples = p.nsamples;
    cp.seqlen = std::min(p.seqlen, source.config().maxPositions);
    cp.seed = p.seed;
    cp.dataDir = p.dataDir;
    return modelCalibration(source, cp, p.device, ctx);
}

/// Memory: the batch that fits the limits (set in p when a limit is given and no batch), or a
/// refusal before any weight is read; the plan's figures go into the report.
void planJobMemory(QuantizeParams& p, const ModelConfig& cfg, const CalibrationSet& calib, bool dataFree,
                   QuantizeReport& report)
{
    const QuantizeMemoryPlan memory = planQuantizeMemory(
        cfg, p.dtype ? *p.dtype : (p.device.rfind("cuda", 0) == 0 ? DType::F16 : DType::F32), p.device,
        int64_t(calib.windows.size()), calib.windows.empty() ? 0 : int64_t(calib.windows[0].size()), p.batchSize,
        dataFree, p.budget);
    if (p.batchSize <= 0 && (p.budget.limitsHost() || p.budget.limitsDevice()))
        p.batchSize = memory.batch;
    report.plannedHostBytes = memory.hostBytes;
    report.plannedDeviceBytes = memory.deviceBytes;
    report.memoryPlan = memory.breakdown;
    report.batch = p.batchSize > 0 ? p.batchSize : automaticQuantizeBatch(p.device);
}

/// The session run: a new one (its header: settings, plan, calibration windows, model), or the
/// resumed one after checking that the model is the same.
void openSessionRun(const QuantizeParams& p, const ModelSource& source, const std::string& method,
                    const CalibrationSet& calib, const detail::OverrideStart* start, SessionSide& side)
{
    const session::ModelReference model = modelReference(source);
    session::detail::RunHeader& header = side.header;
    if (p.resume) {
        checkSameModel(header.model, model, p.session + "#" + header.name);
        return;
    }
    header.name = p.runName;
    header.method = method;
    header.layersTotal = source.config().numLayers;
    header.model = model;
    header.settingsJson = quantizeParamsToJson(p);
    if (start) { // what was overridden, beside the settings it ran with
        nlohmann::json settings = nlohmann::json::parse(header.settingsJson);
        settings["override"] = nlohmann::json::parse(start->recordJson);
        header.settingsJson = settings.dump();
    }
    if (p.plan)
        header.inputPlanJson = p.plan->toJson();
    header.solver = p.solver;
    header.windows = int64_t(calib.windows.size());
    header.length = calib.windows.empty() ? 0 : int64_t(calib.windows[0].size());
    for (const auto& w : calib.windows)
        header.tokens.insert(header.tokens.end(), w.begin(), w.end());
    header.calibrationSource = calib.sourcePath;
    header.calibrationDescription = calib.description;
    side.journal = start ? session::detail::RunJournal::startFrom(p.session, header, start->base, start->fromLayer,
                                                                  side.resume)
                         : session::detail::RunJournal::start(p.session, header);
}

/// The driver (data-free or sequential) with its outputs as sinks. A cancelled or failed run is
/// recorded in the session (which keeps its finished layers, resumable) and rethrown.
void runDriver(const QuantizeParams& p, const ModelSource& source, const AllocationPlan& plan, bool dataFree,
               const CalibrationSet& calib, const detail::ResumeState* resumeState, SessionSide& side,
               std::optional<detail::ResultFolderWriter>& folder, JobContext& ctx, QuantizeReport& report,
               Clock::time_point tStart)
{
    CheckpointLayers provider(source, !p.budget.limitsHost());
    detail::LayerSink sink;
    sink.layer = [&](detail::LayerRecord& r) {
        if (folder)
            folder->addLayer(r);
        if (side.journal)
            side.journal->addLayer(r);
    };
    if (side.journal)
        sink.hessian = [&](int64_t layer, int group, const at::Tensor& H, const std::vector<MatrixPlan>&) {
            side.journal->addHessian(layer, group, H, p.mgptq, p.storeHessianLimit, p.viewTopK, ctx);
        };
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
        report.seconds = since(tStart);
        if (side.journal)
            side.journal->finish("cancelled", reportJson(report, "cancelled"), ctx.warnings());
        throw;
    } catch (const std::exception& e) {
        report.seconds = since(tStart);
        if (side.journal) {
            try {
                ctx.warn(std::string("the run failed: ") + e.what());
                side.journal->finish("failed", reportJson(report, "failed"), ctx.warnings());
            } catch (const std::exception&) {
                // the journal stays; the run reads as interrupted and can be resumed
            }
        }
        throw;
    }
}

/// What result.json says of the finished job.
ResultDescription describeResult(const QuantizeParams& p, const ModelSource& source, const std::string& method,
                                 const CalibrationSet& calib, bool dataFree, at::ScalarType act,
                                 const QuantizeReport& report)
{
    ResultDescription d;
    d.model = source.path();
    d.method = method;
    const int64_t n = int64_t(calib.windows.size());
    const int64_t T = n ? int64_t(calib.windows[0].size()) : 0;
    nlohmann::json settings = {
        {"bits", p.bits},          {"group_size", p.groupSize},     {"act_order", p.actOrder},
        {"static_groups", p.staticGroups}, {"symmetric", p.symmetric}, {"damp_percent", p.dampPercent},
        {"block_size", p.blockSize}, {"calib", p.calib},          {"nsamples", n},
        {"seqlen", T},             {"seed", p.seed},               {"device", p.device},
        {"activation_dtype", std::string(c10::toString(act))}};
    if (source.config().moe.numExperts > 0)
        settings["expert_min_tokens"] = p.expertMinTokens;
    if (!p.allocator.empty()) { // the allocator's knob, for viewers of the folder
        nlohmann::json mg = {{"bits_set", p.mgptq.bitsSet}, {"seed", p.mgptq.seed}};
        if (p.mgptq.alpha)
            mg["alpha"] = *p.mgptq.alpha;
        if (p.mgptq.targetBits)
            mg["target_bits"] = *p.mgptq.targetBits;
        settings["mgptq"] = mg;
    }
    d.settingsJson = settings.dump();
    d.hasCalibration = !dataFree;
    d.calibrationSource = calib.sourcePath;
    d.calibrationDescription = calib.description;
    d.planJson = report.appliedPlan.toJson();
    d.solver = p.solver;
    d.avgBits = report.avgBits;
    d.avgBitsWithOverhead = report.avgBitsWithOverhead;
    d.seconds = report.seconds;
    d.sessionRun = report.sessionRun;
    d.matrices = report.matrices;
    d.warnings = report.warnings;
    return d;
}

} // namespace


QuantizeReport quantizeModel(const QuantizeParams& given, JobContext& ctx)
{
    return detail::quantizeModelFrom(given, ctx, nullptr);
}

QuantizeReport detail::quantizeModelFrom(const QuantizeParams& given, JobContext& ctx, const OverrideStart* start)
{
    const auto tStart = Clock::now();
    SessionSide side;
    QuantizeParams p = given.resume ? resumedParams(given, side, ctx) : given;
    validateJob(p);

    const ModelSource source = ModelSource::open(p.model, p.tokenizer);
    for (const auto& note : source.notes())
        ctx.warn(note);
    const AllocationPlan plan = checkedPlan(p, source);
    const std::string method =
        !p.allocator.empty() ? p.allocator : plan.method == "uniform" ? p.method : plan.method;
    const bool dataFree = isDataFree(p, plan);

    const auto tCal = Clock::now();
    const CalibrationSet calib = calibrationFor(p, source, dataFree, start, side.header, ctx);
    QuantizeReport report;
    planJobMemory(p, source.config(), calib, dataFree, report);
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

    if (!p.session.empty()) {
        openSessionRun(p, source, method, calib, start, side);
        report.sessionRun = p.session + "#" + side.journal->name();
    }
    report.resumedLayers = int64_t(side.resume.layers.size());

    // The result folder is written into a temporary sibling folder and renamed at the end: a
    // cancelled or failed run leaves no half-written result under the requested name.
    std::optional<detail::ResultFolderWriter> folder;
    if (!p.out.empty()) {
        folder.emplace(files::absolute(p.out));
        if (!dataFree)
            folder->writeCalibration(calib);
        for (const auto& r : side.resume.layers)
            folder->addLayer(r);
    }
    runDriver(p, source, plan, dataFree, calib, p.resume || start ? &side.resume : nullptr, side, folder, ctx,
              report, tStart);
    report.seconds = since(tStart);
    report.warnings = ctx.warnings();
    if (folder)
        folder->writeDescription(describeResult(p, source, method, calib, dataFree, act, report));
    if (side.journal)
        side.journal->finish("complete", reportJson(report, "complete"), report.warnings);
    if (folder)
        report.outDir = folder->commit();
    return report;
}

} // namespace mpq
