// Why a column got its bits (docs/explain.md): the run's stored arrays, the base weights' RTN
// errors at each candidate width, the Hessian-greedy baseline and, for MXQ, the cost table's
// LP shadow price.
#include "session/ColumnExplain.h"

#include "alloc/mgptq/HessianGreedy.h"
#include "alloc/mgptq/Mgptq.h"
#include "core/Error.h"
#include "model/ModelSource.h"
#include "model/detail/WeightLoader.h"
#include "quant/detail/Grid.h"
#include "session/Session.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mpq::session {

namespace {

std::vector<int> candidateWidths(const nlohmann::json& settings, const std::string& method, int applied)
{
    std::vector<int> c;
    const bool allocates = method.rfind("mgptq", 0) == 0 || method == "hessian-greedy";
    if (allocates && settings.contains("mgptq") && settings["mgptq"].contains("bits_set"))
        for (const auto& b : settings["mgptq"]["bits_set"])
            if (b.is_number_integer())
                c.push_back(b.get<int>());
    if (c.empty())
        c = {2, 3, 4}; // the widths MG-PTQ mixes by default, for runs that did not choose per column
    c.push_back(applied);
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
    return c;
}

void fillNeighbours(ColumnExplanation& e, const MatrixDetail& d, int k)
{
    const int64_t n = e.cols, j = e.column;
    std::vector<ColumnNeighbour> all;
    if (int64_t(d.hessian.size()) == n * n && int64_t(d.hessianDiagonal.size()) == n) {
        const double hjj = d.hessian[size_t(j * n + j)];
        for (int64_t i = 0; i < n; ++i) {
            if (i == j)
                continue;
            const double denom = std::sqrt(std::max(0.0, hjj * double(d.hessian[size_t(i * n + i)])));
            const double w = denom > 0 ? std::abs(double(d.hessian[size_t(j * n + i)])) / denom : 0.0;
            all.push_back({i, w, int(d.columnBits[size_t(i)])});
        }
        e.neighbourSource = "|H_ij| / sqrt(H_ii·H_jj) of the stored Hessian (all " + std::to_string(n) + " columns)";
    } else if (d.adjacency.nodes == n && !d.adjacency.row.empty()) {
        for (size_t t = 0; t < d.adjacency.row.size(); ++t)
            if (d.adjacency.row[t] == j && d.adjacency.col[t] != j)
                all.push_back({d.adjacency.col[t], double(d.adjacency.value[t]), int(d.columnBits[size_t(d.adjacency.col[t])])});
        e.neighbourSource = "MG-PTQ's normalised adjacency Â as stored for viewing (its " +
                            std::to_string(d.adjacency.topK) +
                            " strongest per column; the full H is stored only up to the stored-Hessian limit of columns)";
    } else {
        e.neighbourSource = "none: the run stores no Hessian (data-free)";
        return;
    }
    const size_t keep = std::min(all.size(), size_t(std::max(0, k)));
    std::partial_sort(all.begin(), all.begin() + long(keep), all.end(),
                      [](const ColumnNeighbour& a, const ColumnNeighbour& b) {
                          return a.weight > b.weight || (a.weight == b.weight && a.column < b.column);
                      });
    all.resize(keep);
    e.neighbours = std::move(all);
}

void fillSoftmax(ColumnExplanation& e, const MatrixDetail& d)
{
    const auto j = nlohmann::json::parse(d.diagnosticsJson, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("softmax")) {
        const bool mgptq = e.method.rfind("mgptq", 0) == 0;
        e.softmaxNote = mgptq ? "this run stored no softmax (made before issue 19)"
                              : "no softmax: " + e.method + " does not train an allocator";
        return;
    }
    const auto& sm = j["softmax"];
    const std::vector<int> bits = sm.value("bits", std::vector<int>{});
    const std::vector<double> p = sm.value("p", std::vector<double>{});
    const size_t K = bits.size();
    if (K == 0 || p.size() != K * size_t(e.cols)) {
        e.softmaxNote = "the stored softmax does not match the matrix's columns";
        return;
    }
    for (size_t c = 0; c < K; ++c)
        for (auto& w : e.widths)
            if (w.bits == bits[c])
                w.probability = p[size_t(e.column) * K + c];
    e.hasSoftmax = true;
}

/// RTN errors of the column at each candidate width, and the greedy baseline, from the weights.
void fillFromWeights(ColumnExplanation& e, const MatrixDetail& d, const RunInfo& run, const nlohmann::json& settings)
{
    at::Tensor W;
    try {
        const ModelSource source = ModelSource::open(run.model.path);
        W = mpq::detail::loadTensor(source, e.tensor, at::kFloat, at::Device(at::kCPU));
    } catch (const std::exception& ex) {
        e.errorNote = std::string("no error predictions: the base weights could not be read (") + ex.what() + ")";
        return;
    }
    if (W.dim() != 2 || W.size(0) != e.rows || W.size(1) != e.cols) {
        e.errorNote = "no error predictions: " + e.tensor + " in " + run.model.path + " no longer has the run's shape";
        return;
    }
    c10::InferenceMode guard;
    mpq::detail::GridOptions grid;
    grid.groupSize = d.summary.groupSize;
    grid.symmetric = settings.value("symmetric", false);
    const at::Tensor wj = W.select(1, e.column);
    for (auto& w : e.widths) {
        const at::Tensor bits = at::full({e.cols}, w.bits, at::TensorOptions().dtype(at::kInt));
        const at::Tensor q = mpq::detail::rtnQuantize(W, bits, grid).dequant;
        w.columnError = (wj - q.select(1, e.column)).to(at::kDouble).pow(2).sum().item<double>();
        if (e.hasHessian)
            w.predictedError = e.hessianDiagonal * w.columnError; // H_jj ‖E_b[:, j]‖²
    }
    if (!e.hasHessian)
        return;
    const at::Tensor norms = W.to(at::kDouble).pow(2).sum(0).contiguous();
    std::vector<double> score(size_t(e.cols));
    for (int64_t i = 0; i < e.cols; ++i)
        score[size_t(i)] = double(d.hessianDiagonal[size_t(i)]) * norms.data_ptr<double>()[i];
    e.greedyTarget = std::clamp(e.matrixAverageBits, double(e.candidates.front()), double(e.candidates.back()));
    e.greedyBits = hessianGreedyBits(score, e.candidates, e.greedyTarget)[size_t(e.column)];
    const double mine = score[size_t(e.column)];
    e.greedyRank = 1 + std::count_if(score.begin(), score.end(), [&](double s) { return s > mine; });
}

/// The budget of an MXQ run: its recorded budget, else its achieved storage.
double mxqBudget(const RunInfo& run, const MxqCostTable& table, double achievedBits, std::string& source)
{
    if (const auto& budget = run.solver.budget) {
        source = "the run's budget, " + budget->describe();
        return budget->toBits(table.totalParameters());
    }
    source = "the run's achieved storage (no budget recorded)";
    return achievedBits;
}

void fillMxq(ColumnExplanation& e, const Session& s, const RunInfo& run, const MatrixSummary& summary)
{
    e.isMxq = true;
    const auto names = s.mxqCostTableNames();
    if (std::find(names.begin(), names.end(), e.run) == names.end()) {
        e.mxqNote = "the session stores no cost table for run " + e.run;
        return;
    }
    const MxqCostTable table = s.mxqCostTable(e.run);
    std::vector<std::vector<double>> cost, storage;
    double achieved = 0;
    const MxqMatrixCosts* mine = nullptr;
    for (const auto& m : table.matrices) {
        cost.push_back(m.cost);
        storage.push_back(m.storageBits);
        if (m.tensor == e.tensor)
            mine = &m;
    }
    // Achieved storage: each matrix at the configuration the run applied.
    for (const auto& m : s.matrices(e.run))
        for (const auto& t : table.matrices)
            if (t.tensor == m.tensor)
                for (size_t k = 0; k < table.configs.size(); ++k)
                    if (table.configs[k].groupSize == m.groupSize && std::abs(table.configs[k].bits - m.codeBits) < 1e-9)
                        achieved += t.storageBits[k];
    if (!mine) {
        e.mxqNote = "the cost table has no entry for " + e.tensor;
        return;
    }
    e.budgetBits = mxqBudget(run, table, achieved, e.budgetSource);
    e.shadowPrice = mxqShadowPrice(cost, storage, e.budgetBits);
    if (e.shadowPrice >= 0)
        e.shadowPricePerBitPerParameter = e.shadowPrice * double(table.totalParameters());
    for (size_t k = 0; k < table.configs.size(); ++k) {
        MxqConfigRow r;
        r.label = table.configs[k].label();
        r.bits = table.configs[k].bits;
        r.groupSize = table.configs[k].groupSize;
        r.cost = mine->cost[k];
        r.storageBits = mine->storageBits[k];
        r.chosen = r.groupSize == summary.groupSize && std::abs(r.bits - summary.codeBits) < 1e-9;
        r.pricedCost = r.cost + std::max(0.0, e.shadowPrice) * r.storageBits;
        e.configs.push_back(r);
    }
}

} // namespace

double mxqShadowPrice(const std::vector<std::vector<double>>& cost, const std::vector<std::vector<double>>& storage,
                      double budgetBits)
{
    struct Step {
        double storage, rate;
    };
    std::vector<Step> steps;
    double base = 0;
    for (size_t i = 0; i < cost.size(); ++i) {
        const auto& c = cost[i];
        const auto& st = storage[i];
        if (c.empty() || c.size() != st.size())
            throw Error("mxq shadow price: matrix " + std::to_string(i) + " has no configurations");
        // Start: the smallest storage (cheapest among ties); then walk the lower convex hull.
        size_t at = 0;
        for (size_t k = 1; k < c.size(); ++k)
            if (st[k] < st[at] || (st[k] == st[at] && c[k] < c[at]))
                at = k;
        base += st[at];
        while (true) {
            size_t next = c.size();
            double best = 0;
            for (size_t k = 0; k < c.size(); ++k) {
                if (st[k] <= st[at] || c[k] >= c[at])
                    continue;
                const double rate = (c[at] - c[k]) / (st[k] - st[at]); // cost saved per storage bit
                if (next == c.size() || rate > best || (rate == best && st[k] > st[next])) {
                    next = k;
                    best = rate;
                }
            }
            if (next == c.size())
                break;
            steps.push_back({st[next] - st[at], best});
            at = next;
        }
    }
    double left = budgetBits - base;
    if (left < 0)
        return -1; // infeasible: no price
    std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.rate > b.rate; });
    for (const Step& s : steps) {
        if (s.storage > left)
            return s.rate; // the budget ends inside this increment: the LP buys a fraction of it
        left -= s.storage;
    }
    return 0; // every improvement fits: the budget does not bind
}

MxqRunChoice mxqRunChoice(const std::string& sessionPath, const std::string& runName)
{
    const Session s = Session::open(sessionPath);
    const RunInfo run = s.run(runName);
    if (run.method != "mxq")
        throw Error(sessionPath + "#" + runName + " is a " + run.method + " run, not MXQ");
    const auto names = s.mxqCostTableNames();
    if (std::find(names.begin(), names.end(), runName) == names.end())
        throw Error(sessionPath + ": no MXQ cost table is stored for run " + runName);
    MxqRunChoice r;
    r.table = s.mxqCostTable(runName);
    r.choice.assign(r.table.matrices.size(), -1);
    double achieved = 0;
    const auto stored = s.matrices(runName);
    for (size_t i = 0; i < r.table.matrices.size(); ++i)
        for (const auto& m : stored)
            if (m.tensor == r.table.matrices[i].tensor)
                for (size_t k = 0; k < r.table.configs.size(); ++k)
                    if (r.table.configs[k].groupSize == m.groupSize && std::abs(r.table.configs[k].bits - m.codeBits) < 1e-9) {
                        r.choice[i] = int(k);
                        achieved += r.table.matrices[i].storageBits[k];
                    }
    r.budgetBits = mxqBudget(run, r.table, achieved, r.budgetSource);
    return r;
}

ColumnExplanation explainColumn(const std::string& sessionPath, const std::string& runName, const std::string& tensor,
                                int64_t column, const ColumnExplainOptions& options)
{
    const Session s = Session::open(sessionPath);
    const RunInfo run = s.run(runName);
    const MatrixDetail d = s.matrix(runName, tensor);
    ColumnExplanation e;
    e.run = run.name;
    e.method = run.method;
    e.tensor = tensor;
    e.layer = d.summary.layer;
    e.linear = d.summary.linear;
    e.rows = d.summary.rows;
    e.cols = d.summary.cols;
    if (column < 0 || column >= e.cols || size_t(e.cols) != d.columnBits.size())
        throw Error(sessionPath + "#" + runName + ": " + tensor + " has " + std::to_string(e.cols) +
                    " columns; column " + std::to_string(column) + " is not one of them");
    e.column = column;
    e.bits = d.columnBits[size_t(column)];
    e.matrixAverageBits = averageColumnBits(d.columnBits);

    if (d.hessianDiagonal.size() == size_t(e.cols)) {
        e.hasHessian = true;
        e.hessianDiagonal = d.hessianDiagonal[size_t(column)];
        e.hessianRank = 1 + std::count_if(d.hessianDiagonal.begin(), d.hessianDiagonal.end(),
                                          [&](float h) { return double(h) > e.hessianDiagonal; });
        std::vector<float> sorted = d.hessianDiagonal;
        std::nth_element(sorted.begin(), sorted.begin() + long(sorted.size() / 2), sorted.end());
        e.hessianMedian = sorted[sorted.size() / 2];
    }
    fillNeighbours(e, d, options.neighbours);

    const auto settings = nlohmann::json::parse(run.settingsJson, nullptr, false);
    const nlohmann::json settingsObj = settings.is_object() ? settings : nlohmann::json::object();
    e.candidates = candidateWidths(settingsObj, e.method, e.bits);
    for (int b : e.candidates)
        e.widths.push_back({b, -1, -1, -1});
    fillSoftmax(e, d);
    if (options.readWeights)
        fillFromWeights(e, d, run, settingsObj);
    else
        e.errorNote = "no error predictions: the weights were not read";
    if (e.method == "mxq")
        fillMxq(e, s, run, d.summary);
    return e;
}

} // namespace mpq::session
