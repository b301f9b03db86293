#include "alloc/mxq/detail/MxqProbed.h"

#include "alloc/mxq/MxqSolver.h"
#include "alloc/detail/FpHessians.h"
#include "alloc/mxq/detail/MxqCosts.h"

#include "core/Device.h"
#include "core/Error.h"
#include "core/detail/TorchDevice.h"
#include "model/detail/WeightLoader.h"
#include "quant/detail/Hqq.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

namespace mpq::detail {

namespace {

std::string bitsText(double bits)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g bits", bits);
    return buf;
}

/// Per configuration of `table`, the storage of every matrix at it (bits; summed in matrix order).
std::vector<double> uniformStorageBits(const MxqCostTable& table)
{
    std::vector<double> storage(table.configs.size(), 0.0);
    for (size_t k = 0; k < table.configs.size(); ++k)
        for (const MxqMatrixCosts& m : table.matrices)
            storage[k] += m.storageBits[k];
    return storage;
}

/// The probed kind's two sets of calibration windows (docs/mxq.md): the costs' (the first n, the
/// very windows the other data-aware kinds use with the same options) and the selection's (the
/// next n of the same sampler), so that no plan is judged on the windows that shaped its costs.
/// A tokens file is split instead: the first half for the costs, the second for the selection.
struct ProbedWindows {
    std::vector<std::vector<int32_t>> costs, selection;
};

ProbedWindows probedWindows(const ModelSource& source, const MxqCostParams& params, JobContext& ctx)
{
    MxqCostParams twice = params;
    if (params.calibration.tokensFile.empty())
        twice.calibration.nsamples = 2 * params.calibration.nsamples;
    std::vector<std::vector<int32_t>> all = mxqCalibration(source, twice, ctx).windows;
    if (all.size() < 2)
        throw Error("MXQ probed: needs at least two calibration windows (one for the costs, one to measure the plans)");
    const size_t n = params.calibration.tokensFile.empty() ? size_t(params.calibration.nsamples) : all.size() - all.size() / 2;
    ProbedWindows w;
    w.costs.assign(all.begin(), all.begin() + std::ptrdiff_t(n));
    w.selection.assign(all.begin() + std::ptrdiff_t(n), all.end());
    return w;
}

/// `table` with the costs of candidate kind `kind` and nothing of the probed kind's extras.
MxqCostTable kindTable(const MxqCostTable& table, const std::string& kind)
{
    MxqCostTable t;
    t.model = table.model;
    t.costKind = kind;
    t.device = table.device;
    t.hqq = table.hqq;
    t.configs = table.configs;
    t.matrices = table.matrices;
    const auto& costs = table.candidateCosts.at(kind);
    for (size_t m = 0; m < t.matrices.size(); ++m)
        t.matrices[m].cost = costs[m];
    return t;
}

/// `table`'s configurations of at least `width` bits (indices into table.configs).
std::vector<size_t> configsFrom(const MxqCostTable& table, int width)
{
    std::vector<size_t> kept;
    for (size_t k = 0; k < table.configs.size(); ++k)
        if (table.configs[k].bits >= width)
            kept.push_back(k);
    return kept;
}

/// `kindTable(table, kind)` restricted to the configurations `kept`, with `costs` as its costs.
MxqCostTable restrictedTable(const MxqCostTable& table, const std::string& kind,
                             const std::vector<std::vector<double>>& costs, const std::vector<size_t>& kept)
{
    MxqCostTable t;
    t.model = table.model;
    t.costKind = kind;
    t.device = table.device;
    t.hqq = table.hqq;
    for (size_t k : kept)
        t.configs.push_back(table.configs[k]);
    t.matrices = table.matrices;
    for (size_t m = 0; m < t.matrices.size(); ++m) {
        t.matrices[m].cost.clear();
        t.matrices[m].storageBits.clear();
        for (size_t k : kept) {
            t.matrices[m].cost.push_back(costs[m][k]);
            t.matrices[m].storageBits.push_back(table.matrices[m].storageBits[k]);
        }
    }
    return t;
}

} // namespace

std::string anchoredSensitivityKind(const MxqConfig& anchor)
{
    return "sensitivity@" + anchor.label();
}

void appendPairCandidates(const MxqCostTable& table, const MxqBudget& budget, double budgetBits, JobContext* ctx,
                          std::vector<MxqProbedCandidate>& out)
{
    const double parameters = double(table.totalParameters());
    const std::vector<double> storage = uniformStorageBits(table);
    int narrowest = std::numeric_limits<int>::max();
    for (const MxqConfig& c : table.configs)
        narrowest = std::min(narrowest, c.bits);
    // LO fits the budget on every matrix, at most one bit per parameter below it; HI does not fit,
    // at most one bit above it (else the cheapest above).
    std::vector<size_t> lows, highs;
    std::optional<size_t> cheapestAbove;
    for (size_t k = 0; k < table.configs.size(); ++k) {
        if (storage[k] <= budgetBits) {
            if (storage[k] >= budgetBits - parameters)
                lows.push_back(k);
        } else {
            if (storage[k] <= budgetBits + parameters)
                highs.push_back(k);
            if (!cheapestAbove || storage[k] < storage[*cheapestAbove])
                cheapestAbove = k;
        }
    }
    if (highs.empty() && cheapestAbove)
        highs.push_back(*cheapestAbove);
    for (size_t lo : lows)
        for (size_t hi : highs) {
            const MxqConfig& low = table.configs[lo];
            const std::string costKind =
                low.bits == narrowest ? "sensitivity" : anchoredSensitivityKind(floorAnchor(table.configs, low.bits));
            const auto costs = table.candidateCosts.find(costKind);
            if (costs == table.candidateCosts.end())
                continue;
            const std::vector<size_t> two = {lo, hi};
            const MxqSolution s = solveMxq(restrictedTable(table, costKind, costs->second, two), budget, {}, ctx);
            if (!s.hasSolution())
                throw Error("MXQ probed: the plan between " + low.label() + " and " + table.configs[hi].label() +
                            " at " + budget.describe() + ": " + s.message);
            std::vector<int> choice;
            for (int c : s.choice)
                choice.push_back(int(two.at(size_t(c))));
            out.push_back({"sensitivity between " + low.label() + " and " + table.configs[hi].label(), choice,
                           s.bitsPerParameter, 0.0});
        }
}

MxqConfig floorAnchor(const std::vector<MxqConfig>& configs, int width)
{
    std::vector<MxqConfig> from;
    for (const MxqConfig& c : configs)
        if (c.bits >= width)
            from.push_back(c);
    return sensitivityProbe(from);
}

std::vector<int> floorWidths(const std::vector<MxqConfig>& configs)
{
    std::vector<int> widths;
    for (const MxqConfig& c : configs)
        widths.push_back(c.bits);
    std::sort(widths.begin(), widths.end());
    widths.erase(std::unique(widths.begin(), widths.end()), widths.end());
    if (!widths.empty())
        widths.erase(widths.begin()); // the smallest width is no floor
    return widths;
}

int budgetFloor(const MxqCostTable& table, double budgetBits)
{
    int floor = 0;
    const std::vector<double> storage = uniformStorageBits(table);
    for (size_t k = 0; k < table.configs.size(); ++k)
        if (storage[k] <= budgetBits)
            floor = std::max(floor, table.configs[k].bits);
    return floor;
}

const std::vector<std::string>& probedCandidateKinds()
{
    static const std::vector<std::string> kinds = {"fnorm",   "relative",         "relative-mse",
                                                   "hessian", "relative-hessian", "sensitivity"};
    return kinds;
}

int lowestLossCandidate(const std::vector<MxqProbedCandidate>& candidates)
{
    if (candidates.empty())
        throw Error("MXQ probed: no candidate plans to choose from");
    int best = -1;
    for (size_t i = 0; i < candidates.size(); ++i) {
        if (!std::isfinite(candidates[i].loss))
            throw Error("MXQ probed: the calibration loss of " + candidates[i].name + " is not finite");
        if (best < 0 || candidates[i].loss < candidates[size_t(best)].loss)
            best = int(i);
    }
    return best;
}

std::vector<MxqProbedCandidate> probedCandidates(const MxqCostTable& table, const MxqBudget& budget, JobContext* ctx)
{
    std::vector<MxqProbedCandidate> out;
    for (const std::string& kind : probedCandidateKinds()) {
        if (!table.candidateCosts.count(kind))
            continue;
        const MxqSolution s = solveMxq(kindTable(table, kind), budget, {}, ctx);
        if (!s.hasSolution())
            throw Error("MXQ probed: the " + kind + " program at " + budget.describe() + ": " + s.message);
        out.push_back({kind, s.choice, s.bitsPerParameter, 0.0});
    }
    const int64_t parameters = table.totalParameters();
    const double budgetBits = budget.toBits(parameters);
    // The floored plans: where every matrix can have `floor` bits (some configuration of that
    // width fits the budget on all of them), the same programs without the narrower
    // configurations, the sensitivity cost anchored at the smallest configuration left
    // (docs/mxq.md, "A per-matrix floor").
    const int floorBits = budgetFloor(table, budgetBits);
    const std::vector<size_t> kept = configsFrom(table, floorBits);
    if (floorBits > 0 && kept.size() < table.configs.size()) {
        const std::string anchoredKind = anchoredSensitivityKind(floorAnchor(table.configs, floorBits));
        for (const std::string& kind : probedCandidateKinds()) {
            const std::string costKind = kind == "sensitivity" ? anchoredKind : kind;
            const auto costs = table.candidateCosts.find(costKind);
            if (costs == table.candidateCosts.end())
                continue;
            const MxqSolution s = solveMxq(restrictedTable(table, kind, costs->second, kept), budget, {}, ctx);
            if (!s.hasSolution())
                throw Error("MXQ probed: the " + kind + " program with at least " + std::to_string(floorBits) +
                            " bits per matrix at " + budget.describe() + ": " + s.message);
            std::vector<int> choice;
            for (int c : s.choice)
                choice.push_back(int(kept.at(size_t(c))));
            out.push_back({kind + ", floor " + std::to_string(floorBits) + " bits", choice, s.bitsPerParameter, 0.0});
        }
    }
    appendPairCandidates(table, budget, budgetBits, ctx, out);
    // The best uniform configuration that fits: where the budget allows one, no mixed plan should
    // be kept unless it measures better than it.
    const auto fnorm = table.candidateCosts.find("fnorm");
    int best = -1;
    double bestCost = 0;
    const std::vector<double> storage = uniformStorageBits(table);
    for (size_t k = 0; k < table.configs.size(); ++k) {
        double cost = 0;
        for (size_t m = 0; m < table.matrices.size(); ++m)
            cost += fnorm != table.candidateCosts.end() ? fnorm->second[m][k] : table.matrices[m].cost[k];
        if (storage[k] <= budgetBits && (best < 0 || cost < bestCost)) {
            best = int(k);
            bestCost = cost;
        }
    }
    if (best >= 0)
        out.push_back({"uniform " + table.configs[size_t(best)].label(), std::vector<int>(table.matrices.size(), best),
                       storage[size_t(best)] / double(parameters), 0.0});
    if (out.empty())
        throw Error("MXQ probed: the table has no candidate costs");
    return out;
}

MxqPlanProber::MxqPlanProber(const ModelSource& source, const std::vector<std::vector<int32_t>>& windows,
                             const at::Device& device, int64_t batch)
    : m_source(source), m_device(device), m_probe(source, windows, device, batch)
{
}

void MxqPlanProber::remember(size_t matrix, size_t config, QuantizedWeight q)
{
    q.dequant = at::Tensor(); // recomputed exactly by dequantize()
    m_hqq[{matrix, config}] = std::move(q);
}

double MxqPlanProber::loss(const MxqCostTable& table, const std::vector<int>& choice, const JobContext& ctx,
                          double* kl)
{
    c10::InferenceMode guard;
    if (choice.size() != table.matrices.size())
        throw Error("MXQ probed: a plan needs one configuration per matrix");
    std::map<std::string, size_t> index;
    for (size_t m = 0; m < table.matrices.size(); ++m) {
        ctx.checkCancelled();
        index[table.matrices[m].tensor] = m;
        const size_t k = size_t(choice[m]);
        if (m_hqq.count({m, k}))
            continue;
        const MxqConfig& c = table.configs.at(k);
        const at::Tensor W = loadTensor(m_source, table.matrices[m].tensor, at::kFloat, m_device);
        remember(m, k, hqqQuantize(W, c.bits, c.groupSize, table.hqq));
    }
    return m_probe.planLoss(
        [&](int64_t, const llama::LinearSpec& s) -> at::Tensor {
            const auto it = index.find(s.tensor);
            if (it == index.end())
                return {};
            return m_hqq.at({it->second, size_t(choice[it->second])}).dequantize();
        },
        &ctx, kl);
}

void addProbedSelections(MxqCostTable& table, const std::vector<MxqBudget>& budgets, MxqPlanProber& prober,
                         JobContext& ctx)
{
    if (table.costKind != "probed")
        throw Error("MXQ probed: a " + table.costKind + " table has no probed selections");
    const int64_t parameters = table.totalParameters();
    std::vector<MxqBudget> todo;
    std::vector<double> todoBits;
    for (const MxqBudget& b : budgets) {
        const double bits = b.toBits(parameters);
        bool seen = table.selectionFor(bits) != nullptr;
        for (double t : todoBits)
            seen = seen || std::abs(t - bits) <= 1e-9 * std::abs(bits);
        if (!seen) {
            todo.push_back(b);
            todoBits.push_back(bits);
        }
    }
    if (todo.empty())
        return;
    // Every budget's candidates first (solves take milliseconds), so that progress counts plans.
    std::vector<std::vector<MxqProbedCandidate>> candidates;
    std::map<std::vector<int>, std::pair<double, double>> measured; // loss, KL
    int64_t total = 0;
    for (const MxqBudget& b : todo) {
        candidates.push_back(probedCandidates(table, b, &ctx));
        for (const auto& c : candidates.back())
            if (measured.emplace(c.choice, std::make_pair(double(NAN), double(NAN))).second)
                ++total;
    }
    ctx.start("mxq probe");
    int64_t done = 0;
    for (size_t i = 0; i < todo.size(); ++i) {
        MxqProbedSelection sel;
        sel.budgetBits = todoBits[i];
        sel.budgetBitsPerParameter = todoBits[i] / double(parameters);
        sel.baselineLoss = prober.probe().baseline();
        for (MxqProbedCandidate& c : candidates[i]) {
            auto& [loss, kl] = measured.at(c.choice);
            if (std::isnan(loss)) {
                ctx.report(done, total, "plans", c.name + " at " + bitsText(sel.budgetBitsPerParameter));
                loss = prober.loss(table, c.choice, ctx, &kl);
                ++done;
            }
            c.loss = loss;
            c.kl = kl;
        }
        sel.candidates = std::move(candidates[i]);
        sel.chosen = lowestLossCandidate(sel.candidates);
        table.selections.push_back(std::move(sel));
    }
    ctx.report(total, total, "plans");
}

MxqCostTable computeProbedMxqCosts(const MxqCostParams& params, JobContext& ctx)
{
    checkDevice(params.device);
    const auto t0 = std::chrono::steady_clock::now();
    const ModelSource source = ModelSource::open(params.model, params.tokenizer);
    const ModelConfig& mc = source.config();
    const ProbedWindows windows = probedWindows(source, params, ctx);
    const at::Device device = torchDevice(params.device);
    const at::ScalarType act = device.is_cuda() ? at::kHalf : at::kFloat;
    const int64_t batch = mxqBatch(params);
    const auto [first, last] = mxqLayerRange(params, mc);

    MxqCostTable table;
    table.model = source.path();
    table.costKind = "probed";
    table.device = params.device;
    table.hqq = params.hqq;
    table.configs = params.configs;
    checkMxqConfigs(table.configs);
    auto indexOf = [&](const MxqConfig& c) {
        for (size_t k = 0; k < table.configs.size(); ++k)
            if (table.configs[k] == c)
                return k;
        throw Error("MXQ probed: configuration " + c.label() + " is not in the table");
    };
    const size_t probeIndex = indexOf(sensitivityProbe(table.configs));
    // The floored plans' sensitivity costs: one more probe per matrix at the smallest
    // configuration of each floor (b3g128, b4g128, b8g128 for the default set).
    std::vector<size_t> anchors;
    for (int width : floorWidths(table.configs))
        anchors.push_back(indexOf(floorAnchor(table.configs, width)));

    c10::InferenceMode guard;
    MxqPlanProber prober(source, windows.selection, device, batch);
    std::optional<LossProbe> costProbe(std::in_place, source, windows.costs, device, batch);
    FpHessianPass pass(source, windows.costs, device, act, batch);
    // One HQQ pass: per matrix and configuration the Frobenius and Hessian errors, from which
    // every candidate kind's cost follows; per matrix the probe's loss increase.
    std::vector<std::vector<double>> fnorm, hessian;
    std::vector<double> meanSquare, signal, deltaLoss;
    std::vector<std::vector<double>> anchorLoss(anchors.size()); // [anchor][matrix]
    ctx.start("mxq costs");
    int64_t total = 0, done = 0;
    for (int64_t layer = first; layer < last; ++layer)
        total += int64_t(llama::layerLinears(mc, layer).size());
    for (int64_t layer = first; layer < last; ++layer) {
        for (const llama::LinearSpec& s : llama::layerLinears(mc, layer)) {
            ctx.checkCancelled();
            ctx.report(done, total, "matrices", s.tensor);
            MxqMatrixCosts m;
            m.tensor = s.tensor;
            m.layer = layer;
            m.linear = s.name;
            const at::Tensor W = loadTensor(source, m.tensor, at::kFloat, device);
            m.rows = W.size(0);
            m.cols = W.size(1);
            const at::Tensor H = pass(layer, s);
            if (!H.defined())
                throw Error("MXQ costs: no calibration Hessian for " + m.tensor);
            meanSquare.push_back(W.pow(2).mean(at::kDouble).item<double>());
            signal.push_back(hessianCost(W, at::zeros_like(W), H));
            std::vector<double> f, h;
            for (size_t k = 0; k < table.configs.size(); ++k) {
                ctx.checkCancelled();
                const MxqConfig& c = table.configs[k];
                QuantizedWeight q = hqqQuantize(W, c.bits, c.groupSize, table.hqq);
                f.push_back(frobeniusCost(W, q.dequant));
                h.push_back(hessianCost(W, q.dequant, H));
                if (k == probeIndex)
                    deltaLoss.push_back(costProbe->loss(layer, s, q.dequant) - costProbe->baseline());
                for (size_t a = 0; a < anchors.size(); ++a)
                    if (k == anchors[a])
                        anchorLoss[a].push_back(costProbe->loss(layer, s, q.dequant) - costProbe->baseline());
                prober.remember(table.matrices.size(), k, std::move(q));
                m.storageBits.push_back(mxqStorageBits(m.rows, m.cols, c));
            }
            fnorm.push_back(std::move(f));
            hessian.push_back(std::move(h));
            table.matrices.push_back(std::move(m));
            ++done;
        }
    }
    ctx.report(done, total, "matrices");
    costProbe.reset(); // the selection measures plans on its own windows

    const std::vector<double> floored = flooredLossIncreases(deltaLoss);
    auto& kinds = table.candidateCosts;
    for (const std::string& kind : probedCandidateKinds())
        kinds[kind].assign(table.matrices.size(), {});
    for (size_t a = 0; a < anchors.size(); ++a) {
        const std::vector<double> increases = flooredLossIncreases(anchorLoss[a]);
        if (std::none_of(increases.begin(), increases.end(), [](double d) { return d > 0; }))
            continue; // no matrix measurably raised the loss there: no sensitivity to plan with
        auto& costs = kinds[anchoredSensitivityKind(table.configs[anchors[a]])];
        for (size_t i = 0; i < table.matrices.size(); ++i) {
            std::vector<double> row;
            for (size_t k = 0; k < table.configs.size(); ++k)
                row.push_back(sensitivityCost(increases[i], fnorm[i][k], fnorm[i][anchors[a]]));
            costs.push_back(std::move(row));
        }
    }
    for (size_t i = 0; i < table.matrices.size(); ++i) {
        const int64_t n = table.matrices[i].parameters();
        for (size_t k = 0; k < table.configs.size(); ++k) {
            const double f = fnorm[i][k];
            kinds["fnorm"][i].push_back(f);
            kinds["relative"][i].push_back(relativeCost("relative", f, meanSquare[i]));
            kinds["relative-mse"][i].push_back(relativeCost("relative-mse", f, meanSquare[i]));
            kinds["hessian"][i].push_back(hessian[i][k]);
            kinds["relative-hessian"][i].push_back(relativeHessianCost(hessian[i][k], signal[i], n));
            kinds["sensitivity"][i].push_back(sensitivityCost(floored[i], f, fnorm[i][probeIndex]));
        }
        table.matrices[i].cost = kinds["sensitivity"][i];
    }
    addProbedSelections(table, params.budgets, prober, ctx);
    table.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return table;
}

} // namespace mpq::detail

namespace mpq {

void probeMxqBudgets(MxqCostTable& table, const MxqCostParams& params, JobContext& ctx)
{
    if (table.costKind != "probed")
        throw Error("MXQ: only a probed cost table takes new budgets by probing, this one holds " +
                    table.costKind + " costs");
    checkDevice(params.device);
    table.validate("MXQ cost table");
    const auto t0 = std::chrono::steady_clock::now();
    const ModelSource source = ModelSource::open(params.model, params.tokenizer);
    const detail::ProbedWindows windows = detail::probedWindows(source, params, ctx);
    c10::InferenceMode guard;
    detail::MxqPlanProber prober(source, windows.selection, detail::torchDevice(params.device),
                                 detail::mxqBatch(params));
    detail::addProbedSelections(table, params.budgets, prober, ctx);
    table.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace mpq
