// Fuzz target: an HDF5 session file (Session::open and every read it offers: runs, matrices with
// their arrays, evaluations, sweeps, MXQ cost tables, the log, and each run's stored layers as
// eval and export read them).
#include "FuzzSupport.h"

#include "core/Error.h"
#include "runs/detail/QuantizedRun.h"
#include "session/Session.h"

#include <hdf5.h>

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // HDF5 keeps freed blocks on its own free lists, so an input's mallocs and frees never
    // balance and libFuzzer would run a full leak scan after every execution (a tenth of the
    // speed). With no free-list memory kept, blocks go back to malloc at once.
    static const bool noFreeLists = H5set_free_list_limits(0, 0, 0, 0, 0, 0) >= 0;
    (void)noFreeLists;
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
    // Every HDF5 identifier the reader opened must be closed again, on success and on every
    // error path: an open one is our leak (HDF5's own leaks on corrupt object headers are
    // suppressed in lsan.supp; a handle we forget stays reachable, so LeakSanitizer alone would
    // not see it).
    const ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open != 0) {
        std::fprintf(stderr, "fuzz_session: %zd HDF5 identifiers left open\n", open);
        std::abort();
    }
    return 0;
}
