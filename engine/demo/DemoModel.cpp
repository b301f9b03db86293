#include "DemoModel.h"

#include "core/Error.h"
#include "core/Files.h"

#include <cstdlib>
#include <unistd.h>

// Set by engine/CMakeLists.txt; the defaults keep the file compilable on its own.
#ifndef MPQ_DEMO_SOURCE_DIR
#define MPQ_DEMO_SOURCE_DIR ""
#endif
#ifndef MPQ_DEMO_INSTALL_DIR
#define MPQ_DEMO_INSTALL_DIR ""
#endif
#ifndef MPQ_DEMO_RELATIVE_DIR
#define MPQ_DEMO_RELATIVE_DIR "share/mpq-workbench/demo"
#endif

namespace mpq {

namespace {

std::string executablePath()
{
    std::string buf(4096, '\0');
    const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
    if (n <= 0)
        return {};
    buf.resize(size_t(n));
    return buf;
}

} // namespace

std::vector<std::string> demoModelCandidates()
{
    const char* env = std::getenv("MPQ_DEMO_DIR");
    if (env && *env)
        return {std::string(env)};
    std::vector<std::string> out;
    const std::string exe = executablePath();
    if (!exe.empty()) // PREFIX/bin/mpq -> PREFIX/share/mpq-workbench/demo
        out.push_back(files::join(files::parent(files::parent(exe)), MPQ_DEMO_RELATIVE_DIR));
    for (const char* dir : {MPQ_DEMO_INSTALL_DIR, MPQ_DEMO_SOURCE_DIR})
        if (*dir && (out.empty() || out.back() != dir))
            out.emplace_back(dir);
    return out;
}

DemoModel findDemoModel()
{
    const std::vector<std::string> candidates = demoModelCandidates();
    for (const std::string& dir : candidates) {
        if (!files::exists(files::join(dir, "config.json")))
            continue;
        DemoModel m;
        m.dir = dir;
        m.validText = files::join(dir, "demo-valid.txt");
        m.calibText = files::join(dir, "demo-calib.txt");
        return m;
    }
    std::string where;
    for (const std::string& dir : candidates)
        where += (where.empty() ? "" : ", ") + dir;
    const bool fromEnv = std::getenv("MPQ_DEMO_DIR") && *std::getenv("MPQ_DEMO_DIR");
    throw Error("the demo model was not found (looked in " + where + ")" +
                (fromEnv ? "; MPQ_DEMO_DIR names a folder without config.json"
                         : "; set MPQ_DEMO_DIR to the folder with its config.json (resources/demo/model in the "
                           "source tree, share/mpq-workbench/demo when installed)"));
}

} // namespace mpq
