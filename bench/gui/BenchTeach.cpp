// Issue 19: times what the Explain dock and the teaching tabs compute for one click, on a session
// (e.g. the demo's): mpq-bench-teach SESSION GPTQ_RUN MGPTQ_RUN TENSOR [COLUMN] [REPS].
// Prints the median and maximum wall time of each, in ms.
#include "alloc/mgptq/MgptqTrace.h"
#include "quant/GptqTrace.h"
#include "session/ColumnExplain.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <vector>

int main(int argc, char** argv)
{
    if (argc < 5) {
        std::fprintf(stderr, "usage: mpq-bench-teach SESSION GPTQ_RUN MGPTQ_RUN TENSOR [COLUMN] [REPS]\n");
        return 2;
    }
    const std::string session = argv[1], gptq = argv[2], mgptq = argv[3], tensor = argv[4];
    const long column = argc > 5 ? std::atol(argv[5]) : 0;
    const int reps = argc > 6 ? std::max(1, std::atoi(argv[6])) : 9;
    auto time = [&](const char* what, const std::function<void()>& f) {
        std::vector<double> ms;
        for (int k = 0; k < reps; ++k) {
            const auto t0 = std::chrono::steady_clock::now();
            f();
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        std::printf("%-44s median %7.1f ms  max %7.1f ms  (%d runs)\n", what, ms[ms.size() / 2], ms.back(), reps);
    };
    try {
        time("explain a column (MG-PTQ run)", [&] { mpq::session::explainColumn(session, mgptq, tensor, column); });
        time("GPTQ trace (Teach GPTQ)", [&] { mpq::traceGptqFromSession(session, gptq, tensor); });
        time("MG-PTQ replay (Teach MG-PTQ)", [&] { mpq::traceMgptqFromSession(session, mgptq, tensor); });
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mpq-bench-teach: %s\n", e.what());
        return 1;
    }
    return 0;
}
