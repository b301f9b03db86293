#pragma once

#include <string>
#include <vector>

namespace mpq::cli {

/// Each subcommand: parses its own options and returns the process exit status. Errors are
/// thrown as mpq::Error and reported by main().
int runInfo(const std::vector<std::string>& args);
int runEval(const std::vector<std::string>& args);
int runBench(const std::vector<std::string>& args);
int runQuantize(const std::vector<std::string>& args);
int runBenchQuantize(const std::vector<std::string>& args);
int runSweep(const std::vector<std::string>& args);
int runSession(const std::vector<std::string>& args);
int runExport(const std::vector<std::string>& args);
int runBenchMxq(const std::vector<std::string>& args);
int runTokenize(const std::vector<std::string>& args);
int runBenchTokenize(const std::vector<std::string>& args);

} // namespace mpq::cli
