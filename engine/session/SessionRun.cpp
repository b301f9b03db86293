// A session's run seen through the QuantizedRun reader interface (eval, export, the GUI).
#include "session/detail/SessionRun.h"

#include "core/Error.h"
#include "session/detail/LayerSerializer.h"
#include "session/detail/SessionState.h"

#include <algorithm>

namespace mpq::session::detail {

namespace {

class SessionRun final : public mpq::detail::QuantizedRun {
public:
    SessionRun(std::string spec, std::shared_ptr<const Session::Impl> s, const RunState& run)
        : m_spec(std::move(spec)), m_session(std::move(s)), m_run(run)
    {
    }

    std::string describe() const override { return m_spec; }
    std::string modelPath() const override { return m_run.header.model.path; }
    std::string method() const override { return m_run.header.method; }
    AllocationPlan plan() const override
    {
        std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
        AllocationPlan p;
        p.method = m_run.header.method;
        for (const auto& [index, loc] : m_run.layers) try {
            const h5::Id g = h5::openGroup(loc.file, loc.group);
            for (const auto& name : matrixGroups(g)) {
                const h5::Id mg = h5::openGroup(g, name);
                const MatrixSummary s = readMatrixSummary(mg);
                MatrixPlan m;
                m.tensor = s.tensor;
                m.layer = s.layer;
                m.linear = s.linear;
                m.rows = s.rows;
                m.cols = s.cols;
                m.quantizer = s.quantizer;
                m.groupSize = s.groupSize;
                m.predictedCost = s.predictedCost;
                m.storageBits = s.storageBits;
                m.columnBits = h5::readArray<uint8_t>(mg, "column_bits");
                m.diagnostics = h5::readText(mg, "diagnostics");
                p.matrices.push_back(std::move(m));
            }
        } catch (const Error& e) {
            h5::rethrowIn(e, loc.file.file(), "decoder layer " + std::to_string(index));
        }
        return p;
    }
    std::string settingsJson() const override { return m_run.header.settingsJson; }
    std::vector<int64_t> layers() const override
    {
        std::vector<int64_t> out;
        for (const auto& [index, loc] : m_run.layers)
            out.push_back(index);
        // Damaged layers are listed, so that readers fail on them rather than skip them.
        for (const auto& [index, why] : m_run.damaged)
            if (!m_run.layers.count(index))
                out.push_back(index);
        std::sort(out.begin(), out.end());
        return out;
    }
    mpq::detail::QuantizedLayer layer(int64_t index) const override
    {
        std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
        const auto it = m_run.layers.find(index);
        if (it == m_run.layers.end() && m_run.damaged.count(index))
            throw h5::ChecksumError(m_spec + ": damaged: " + m_run.damaged.at(index) +
                                        " (resuming the run recomputes it)",
                                    {"resume"});
        if (it == m_run.layers.end())
            throw Error(m_spec + ": decoder layer " + std::to_string(index) + " is not stored");
        mpq::detail::LayerRecord rec;
        try {
            rec = readLayer(h5::openGroup(it->second.file, it->second.group));
        } catch (const h5::ChecksumError& e) {
            throw h5::ChecksumError(m_spec + ": damaged: " + e.what() + " (resuming the run recomputes it)",
                                    {"resume"});
        }
        mpq::detail::QuantizedLayer out;
        for (auto& m : rec.matrices) {
            m.q.dequant = m.q.dequantize();
            out.emplace_back(m.plan.tensor, std::move(m.q));
        }
        return out;
    }

private:
    std::string m_spec;
    std::shared_ptr<const Session::Impl> m_session; // keeps the HDF5 handles of m_run open
    const RunState& m_run;
};

} // namespace

std::unique_ptr<mpq::detail::QuantizedRun> openSessionRun(const std::string& file, const std::string& run)
{
    auto s = loadSession(file);
    if (run.empty()) {
        std::string known;
        for (const auto& r : s->runs)
            known += (known.empty() ? "" : ", ") + r.header.name;
        throw Error(file + ": name a run as " + file + "#RUN (runs: " + (known.empty() ? "none" : known) + ")");
    }
    const RunState& r = s->run(run);
    if (r.layers.empty())
        throw Error(file + "#" + run + ": the run has no stored layers yet");
    return std::make_unique<SessionRun>(file + "#" + run, s, r);
}

} // namespace mpq::session::detail
