// MXQ's mixed integer program with GLPK (GPL-3.0-or-later, Debian's libglpk-dev): the default
// back end, since GLPK's licence is the project's own (docs/mxq.md).
#include "alloc/mxq/detail/MxqSearch.h"

#ifdef MPQ_MIP_GLPK
#include "core/Error.h"

#include <glpk.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace mpq::detail {

namespace {

/// What the branch-and-cut callback needs: the incumbent to hand over once, and the job.
struct CallbackData {
    const std::vector<double>* start = nullptr; ///< 1-based column values of the greedy start
    bool startGiven = false;
    const JobContext* ctx = nullptr;
    bool cancelled = false;
    int nodes = 0;
    double bound = -std::numeric_limits<double>::infinity(); ///< best node bound seen (scaled)
};

void callback(glp_tree* tree, void* info)
{
    auto* d = static_cast<CallbackData*>(info);
    int active = 0, current = 0, total = 0;
    glp_ios_tree_size(tree, &active, &current, &total);
    d->nodes = std::max(d->nodes, total);
    if (const int best = glp_ios_best_node(tree))
        d->bound = glp_ios_node_bound(tree, best); // the best bound of the open nodes
    if (d->ctx && d->ctx->isCancelled()) {
        d->cancelled = true;
        glp_ios_terminate(tree);
        return;
    }
    // The greedy incumbent, offered at the first heuristic point: GLPK then prunes every node
    // whose LP bound is not better than it.
    if (glp_ios_reason(tree) == GLP_IHEUR && d->start && !d->startGiven) {
        d->startGiven = true;
        glp_ios_heur_sol(tree, d->start->data());
    }
}

/// GLPK's environment is per thread, but the library's error hook and terminal hook are
/// process-wide settings: one solve at a time.
std::mutex& glpkMutex()
{
    static std::mutex m;
    return m;
}

struct ProblemDeleter {
    void operator()(glp_prob* p) const { glp_delete_prob(p); }
};

} // namespace

std::string mipSolverName()
{
    return std::string("GLPK ") + glp_version();
}

/// Branch and cut (GLPK's glp_intopt: LP relaxation by the simplex method, then branch and
/// bound with its cut generators) over the fronts, from the greedy incumbent. Scaling as for CBC:
/// the knapsack row to a right-hand side of 1 and the objective to 10⁶ at the incumbent, so that
/// GLPK's absolute tolerances resolve a relative 10⁻¹² of the objective.
void mipSolve(MxqSolution& s, const Fronts& fronts, const Greedy& greedy, const MxqSolveOptions& opt,
              const JobContext* ctx)
{
    std::lock_guard<std::mutex> lock(glpkMutex());
    glp_term_out(GLP_OFF);
    const double costScale = greedy.cost > 0 ? greedy.cost / 1e6 : 1.0;
    std::unique_ptr<glp_prob, ProblemDeleter> lp(glp_create_prob());
    glp_set_obj_dir(lp.get(), GLP_MIN);
    const int matrices = int(fronts.size());
    // Matrices of one size have the same storage for a configuration, and near-equal costs: as
    // 0/1 choices per matrix they make a highly symmetric program on which branch and bound
    // crawls (seconds to minutes for LLaMA-7B's 224 matrices). So the choices x_mk are
    // continuous in [0, 1] and the integers are counts: n_key, for each key (configuration,
    // storage) that some candidate has, the number of matrices choosing it. Rows: Σ_k x_mk = 1
    // per matrix; Σ x_mk over the candidates of a key − n_key = 0; the knapsack Σ storage·n_key
    // ≤ budget. Each x_mk is in one matrix row and one key row (a bipartite incidence matrix,
    // totally unimodular), so for integral counts the optimal x is integral: the program is
    // exact, and GLPK only branches on a few dozen counts (docs/mxq.md).
    std::map<std::pair<int, double>, int> keyIndex; // (config, storage) → key
    std::vector<double> keyStorage;
    std::vector<int> keyCount, keyStart;
    for (const auto& f : fronts)
        for (const Candidate& c : f) {
            const auto [it, added] = keyIndex.emplace(std::make_pair(c.config, c.storage), int(keyStorage.size()));
            if (added) {
                keyStorage.push_back(c.storage);
                keyCount.push_back(0);
                keyStart.push_back(0);
            }
            ++keyCount[size_t(it->second)];
        }
    const int keys = int(keyStorage.size());
    int choices = 0;
    for (const auto& f : fronts)
        choices += int(f.size());
    glp_add_rows(lp.get(), matrices + keys + 1);
    for (int m = 1; m <= matrices; ++m)
        glp_set_row_bnds(lp.get(), m, GLP_FX, 1.0, 1.0); // one configuration per matrix
    for (int k = 1; k <= keys; ++k)
        glp_set_row_bnds(lp.get(), matrices + k, GLP_FX, 0.0, 0.0); // Σ x − n_key = 0
    const int knapsack = matrices + keys + 1;
    glp_set_row_bnds(lp.get(), knapsack, GLP_UP, 0.0, 1.0); // Σ storage / budget ≤ 1
    glp_add_cols(lp.get(), choices + keys);

    // GLPK's triplets are 1-based; index 0 is unused.
    std::vector<int> ia{0}, ja{0};
    std::vector<double> ar{0.0};
    std::vector<int> firstColumn;
    std::vector<double> start(size_t(choices + keys) + 1, 0.0);
    int j = 0;
    for (int m = 0; m < matrices; ++m) {
        firstColumn.push_back(j + 1);
        for (size_t k = 0; k < fronts[size_t(m)].size(); ++k) {
            ++j;
            const Candidate& c = fronts[size_t(m)][k];
            const int key = keyIndex.at({c.config, c.storage});
            glp_set_col_kind(lp.get(), j, GLP_CV);
            glp_set_col_bnds(lp.get(), j, GLP_DB, 0.0, 1.0);
            glp_set_obj_coef(lp.get(), j, c.cost / costScale);
            ia.insert(ia.end(), {m + 1, matrices + 1 + key});
            ja.insert(ja.end(), {j, j});
            ar.insert(ar.end(), {1.0, 1.0});
            if (int(k) == greedy.position[size_t(m)]) {
                start[size_t(j)] = 1.0;
                start[size_t(choices + 1 + key)] += 1.0;
            }
        }
    }
    for (int k = 0; k < keys; ++k) {
        const int col = choices + 1 + k;
        glp_set_col_kind(lp.get(), col, GLP_IV);
        glp_set_col_bnds(lp.get(), col, GLP_DB, 0.0, double(keyCount[size_t(k)]));
        ia.insert(ia.end(), {matrices + 1 + k, knapsack});
        ja.insert(ja.end(), {col, col});
        ar.insert(ar.end(), {-1.0, keyStorage[size_t(k)] / s.budgetBits});
    }
    glp_load_matrix(lp.get(), int(ia.size()) - 1, ia.data(), ja.data(), ar.data());

    glp_smcp lpParams;
    glp_init_smcp(&lpParams);
    lpParams.msg_lev = GLP_MSG_OFF;
    if (glp_simplex(lp.get(), &lpParams) != 0 || glp_get_status(lp.get()) != GLP_OPT) {
        s.status = glp_get_status(lp.get()) == GLP_NOFEAS ? MxqStatus::Infeasible : MxqStatus::Error;
        s.message = s.status == MxqStatus::Infeasible ? "GLPK proved the budget infeasible"
                                                      : "GLPK could not solve the LP relaxation";
        return;
    }

    CallbackData data;
    data.start = opt.greedyStart ? &start : nullptr;
    data.ctx = ctx;
    glp_iocp params;
    glp_init_iocp(&params);
    params.msg_lev = GLP_MSG_OFF;
    params.presolve = GLP_OFF; // keeps the column numbering that the incumbent refers to
    params.mip_gap = std::max(0.0, opt.relativeGap);
    params.tm_lim = int(std::min(2.0e9, std::max(10.0, 1000.0 * opt.timeLimitSeconds)));
    params.cb_func = callback;
    params.cb_info = &data;
    params.gmi_cuts = GLP_ON;
    params.cov_cuts = GLP_ON; // cover cuts suit the knapsack row
    const int rc = glp_intopt(lp.get(), &params);
    if (data.cancelled)
        throw Cancelled();
    s.nodes = data.nodes;
    const int status = glp_mip_status(lp.get());
    if (status != GLP_OPT && status != GLP_FEAS) {
        s.status = status == GLP_NOFEAS ? MxqStatus::Infeasible : MxqStatus::Error;
        s.message = status == GLP_NOFEAS ? "GLPK proved the budget infeasible"
                                         : "GLPK found no solution (glp_intopt returned " + std::to_string(rc) + ")";
        return;
    }
    std::vector<int> position(fronts.size(), 0);
    for (int m = 0; m < matrices; ++m) {
        int arg = 0; // x is integral at the solution (see above); the largest entry, to be safe
        for (int k = 1; k < int(fronts[size_t(m)].size()); ++k)
            if (glp_mip_col_val(lp.get(), firstColumn[size_t(m)] + k) >
                glp_mip_col_val(lp.get(), firstColumn[size_t(m)] + arg))
                arg = k;
        position[size_t(m)] = arg;
    }
    setChoice(s, fronts, position);
    // glp_intopt returns 0 with status GLP_OPT when the search is complete, and GLP_EMIPGAP
    // (status GLP_FEAS) when it stopped because the relative gap fell to mip_gap: both prove the
    // incumbent optimal within the gap asked for. A time limit (GLP_ETMLIM) leaves it unproven.
    const bool proven = (rc == 0 && status == GLP_OPT) || rc == GLP_EMIPGAP;
    s.status = proven ? MxqStatus::Optimal : MxqStatus::Feasible;
    double bound = greedy.lpBound;
    if (rc == 0 && status == GLP_OPT)
        bound = s.objective; // the tree was exhausted
    else if (std::isfinite(data.bound))
        bound = std::max(bound, data.bound * costScale);
    s.bound = std::min(s.objective, bound);
    s.gap = relativeGap(s.objective, s.bound);
    if (proven) // GLPK's own test closed the gap; unscaling may add rounding in the last digits
        s.gap = std::min(s.gap, opt.relativeGap);
}

} // namespace mpq::detail
#endif
