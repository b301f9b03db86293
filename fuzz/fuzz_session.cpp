// Fuzz target: an HDF5 session file (Session::open and every read it offers: runs, matrices with
// their arrays, evaluations, sweeps, MXQ cost tables, the log, and each run's stored layers as
// eval and export read them).
#include "FuzzSupport.h"

#include "core/Error.h"
#include "pipeline/detail/QuantizedRun.h"
#include "session/Session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string file = mpq::fuzz::writeScratch("input.h5", data, size);
    try {
        const auto s = mpq::session::Session::open(file);
        s.evaluations();
        s.sweeps();
        s.log();
        for (const auto& name : s.mxqCostTableNames())
            s.mxqCostTable(name);
        for (const auto& run : s.runs()) {
            for (const auto& m : s.matrices(run.name))
                s.matrix(run.name, m.tensor);
            try {
                const auto q = mpq::detail::openQuantizedRun(file + "#" + run.name);
                q->plan();
                for (int64_t k : q->layers())
                    q->layer(k);
            } catch (const mpq::Error&) {
            }
        }
    } catch (const mpq::Error&) {
    }
    return 0;
}
