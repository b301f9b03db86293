#include "session/SessionVerify.h"

#include "core/Error.h"
#include "runs/detail/QuantizedRun.h"
#include "session/Session.h"
#include "session/detail/Sha256.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <optional>

namespace mpq::session {

namespace {

/// Collects the bytes of everything read; hashed per object so that the digest's input stays small.
class Digest {
public:
    void add(const std::string& label, const std::string& bytes) { m_hashes += label + ":" + detail::sha256(bytes) + "\n"; }
    template <typename T>
    void addVector(const std::string& label, const std::vector<T>& v)
    {
        add(label, std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)));
    }
    void addTensor(const std::string& label, const at::Tensor& t)
    {
        if (!t.defined()) {
            add(label, "undefined");
            return;
        }
        const at::Tensor c = t.contiguous().cpu();
        add(label, std::string(static_cast<const char*>(c.data_ptr()), size_t(c.nbytes())));
    }
    std::string finish() const { return detail::sha256(m_hashes); }

private:
    std::string m_hashes;
};

std::string number(double v)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

} // namespace

VerifyReport verifySession(const std::string& path,
                           const std::function<bool(int64_t, int64_t, const std::string&)>& progress)
{
    VerifyReport report;
    report.path = path;
    std::optional<Session> opened;
    try {
        opened.emplace(Session::open(path));
    } catch (const Error& e) {
        report.problems.push_back({"file", e.what()});
        return report;
    }
    const Session& s = *opened;
    Digest digest;

    // What there is to read, so that progress has a total.
    std::vector<RunInfo> runs;
    std::vector<std::string> tables;
    try {
        runs = s.runs();
        tables = s.mxqCostTableNames();
    } catch (const Error& e) {
        report.problems.push_back({"index of runs and cost tables", e.what()});
    }
    int64_t total = 3 + int64_t(tables.size()); // evaluations, sweeps, log, tables
    for (const auto& r : runs)
        total += 1 + int64_t(r.layersDone.size()) + int64_t(r.damagedLayers.size());
    int64_t done = 0;
    bool stopped = false;
    // Reads one object; its mpq::Error becomes a problem. Returns false when the caller stopped.
    auto step = [&](const std::string& object, const std::function<void()>& read) {
        if (stopped)
            return false;
        if (progress && !progress(done, total, object)) {
            stopped = true;
            report.problems.push_back({object, "stopped before it was read"});
            return false;
        }
        try {
            read();
            ++report.objectsRead;
        } catch (const Error& e) {
            report.problems.push_back({object, e.what()});
        }
        ++done;
        return true;
    };

    for (const auto& r : runs) {
        const std::string runLabel = "run " + r.name;
        step(runLabel + ", its matrices", [&] {
            digest.add(runLabel + "/settings", r.method + "\n" + r.settingsJson);
            for (const auto& m : s.matrices(r.name)) {
                const MatrixDetail d = s.matrix(r.name, m.tensor);
                const std::string l = runLabel + "/" + m.tensor;
                digest.addVector(l + "/bits", d.columnBits);
                digest.addVector(l + "/diagH", d.hessianDiagonal);
                digest.addVector(l + "/H", d.hessian);
                digest.addVector(l + "/adj.row", d.adjacency.row);
                digest.addVector(l + "/adj.col", d.adjacency.col);
                digest.addVector(l + "/adj.value", d.adjacency.value);
                digest.addVector(l + "/curves.loss", d.curves.loss);
                digest.addVector(l + "/curves.bits", d.curves.avgBits);
                digest.add(l + "/diagnostics", d.diagnosticsJson);
            }
        });
        std::unique_ptr<mpq::detail::QuantizedRun> q;
        try {
            q = mpq::detail::openQuantizedRun(path + "#" + r.name);
        } catch (const Error& e) {
            report.problems.push_back({runLabel + ", its stored layers", e.what()});
            continue;
        }
        for (int64_t k : q->layers()) {
            const std::string object = runLabel + ", decoder layer " + std::to_string(k);
            const bool more = step(object, [&] {
                for (const auto& [tensor, w] : q->layer(k)) {
                    digest.addTensor(object + "/" + tensor, w.dequant);
                    digest.addTensor(object + "/" + tensor + "/codes", w.codes);
                }
                ++report.layersRead;
            });
            if (!more)
                break;
        }
    }
    step("evaluations", [&] {
        for (const auto& e : s.evaluations())
            digest.add("evaluation " + std::to_string(e.id),
                       e.run + "\n" + e.model + "\n" + e.dataset + "\n" + e.protocol + "\n" +
                           number(e.perplexity) + "\n" + number(e.meanNll) + "\n" + std::to_string(e.tokens) +
                           "\n" + e.resultJson);
    });
    step("sweeps", [&] {
        for (const auto& sw : s.sweeps()) {
            std::string text = sw.method + "\n" + sw.axis + "\n" + sw.model + "\n";
            for (const auto& p : sw.points) {
                text += number(p.value) + " " + p.run + " " + number(p.avgBits);
                for (const auto& [dataset, ppl] : p.perplexity)
                    text += " " + dataset + "=" + number(ppl);
                text += "\n";
            }
            digest.add("sweep " + sw.name, text);
        }
    });
    step("warning log", [&] {
        std::string text;
        for (const auto& w : s.log())
            text += w.time + " " + w.run + " " + w.message + "\n";
        digest.add("log", text);
    });
    for (const auto& name : tables)
        step("MXQ cost table " + name, [&] {
            const MxqCostTable t = s.mxqCostTable(name);
            digest.add("cost table " + name, t.toJson());
        });
    report.contentDigest = digest.finish();
    return report;
}

} // namespace mpq::session
