#include "FuzzSupport.h"

#include "core/Error.h"
#include "core/Files.h"
#include "core/JobContext.h"
#include "demo/SyntheticModel.h"
#include "export/Export.h"
#include "pipeline/QuantizeJob.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace mpq::fuzz {

namespace {

struct Scratch {
    std::string dir;
    Scratch()
    {
        // Inputs are written to a file for every execution: tmpfs (/dev/shm) keeps that off the
        // disk (a third of fuzz_llama2c's time went to writing /tmp). TMPDIR overrides.
        const char* tmp = std::getenv("TMPDIR");
        std::string base = tmp && *tmp ? tmp : (::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        dir = base + "/mpq-fuzz-" + std::to_string(::getpid());
        std::filesystem::create_directories(dir);
    }
    ~Scratch()
    {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

} // namespace

const std::string& scratchDir()
{
    static Scratch s;
    return s.dir;
}

void writeBytes(const std::string& path, const uint8_t* data, size_t size)
{
    // Plain POSIX calls: no stream buffer to allocate per execution.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        std::abort(); // the harness itself failed: not a finding in the code under test
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(fd, data + done, size - done);
        if (n <= 0)
            std::abort();
        done += size_t(n);
    }
    if (::close(fd) != 0)
        std::abort();
}

std::string writeScratch(const std::string& name, const uint8_t* data, size_t size)
{
    const std::string path = scratchDir() + "/" + name;
    writeBytes(path, data, size);
    return path;
}

namespace {

Fixture build()
{
    Fixture f;
    f.root = "/tmp/mpq-fuzz-fixture-v1";
    f.model = f.root + "/model";
    f.result = f.root + "/result";
    f.packed = f.root + "/packed";
    f.session = f.root + "/session.h5";
    std::filesystem::create_directories(f.root);
    const int fd = ::open((f.root + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0)
        std::abort();
    if (!files::exists(f.root + "/.complete")) {
        std::error_code ec;
        for (const std::string& p : {f.model, f.result, f.packed, f.session, f.session + ".journal"})
            std::filesystem::remove_all(p, ec);
        SyntheticDemoSpec spec;
        spec.layers = 1;
        spec.hidden = 16;
        spec.intermediate = 32;
        spec.heads = 2;
        spec.vocab = 32;
        spec.maxPositions = 32;
        spec.calibWindows = 2;
        spec.calibLength = 8;
        writeSyntheticModel(spec, f.model);
        JobContext ctx;
        QuantizeParams q;
        q.model = f.model;
        q.method = "rtn";
        q.bits = 4;
        q.groupSize = 8;
        q.calibTokens = syntheticCalibrationFile(f.model);
        q.nsamples = spec.calibWindows;
        q.seqlen = spec.calibLength;
        q.out = f.result;
        q.session = f.session;
        quantizeModel(q, ctx);
        ExportParams e;
        e.input = f.result;
        e.format = parseExportFormat("mpq-packed");
        e.outDir = f.packed;
        exportRun(e, ctx);
        std::ofstream(f.root + "/.complete") << "1\n";
    }
    ::close(fd);
    return f;
}

} // namespace

const Fixture& fixture()
{
    static const Fixture f = build();
    return f;
}

} // namespace mpq::fuzz
