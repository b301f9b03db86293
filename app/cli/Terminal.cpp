#include "Terminal.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <unistd.h>

namespace mpq::cli {

namespace {

std::atomic<JobContext*> g_ctx{nullptr};
std::atomic<int> g_interrupts{0};
bool g_lineOpen = false;

void onSignal(int)
{
    if (g_interrupts.fetch_add(1) >= 1)
        _exit(130);
    if (JobContext* ctx = g_ctx.load())
        ctx->requestCancel();
    const char msg[] = "\ninterrupt: stopping at the next safe point (Ctrl-C again to abort now)\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
}

std::string formatSeconds(double s)
{
    if (s < 0)
        return "?";
    char buf[32];
    const int total = int(s + 0.5);
    if (total >= 3600)
        std::snprintf(buf, sizeof buf, "%dh%02dm", total / 3600, (total / 60) % 60);
    else if (total >= 60)
        std::snprintf(buf, sizeof buf, "%dm%02ds", total / 60, total % 60);
    else
        std::snprintf(buf, sizeof buf, "%.1fs", s);
    return buf;
}

} // namespace

void endProgressLine()
{
    if (g_lineOpen) {
        std::fputc('\n', stderr);
        g_lineOpen = false;
    }
}

namespace {

void attachTerminalReporter(JobContext& ctx)
{
    const bool tty = isatty(STDERR_FILENO);
    auto lastPrint = std::make_shared<std::chrono::steady_clock::time_point>();
    ctx.setProgressHandler([tty, lastPrint](const Progress& p) {
        const auto now = std::chrono::steady_clock::now();
        const bool finished = p.total > 0 && p.done >= p.total;
        const double since = std::chrono::duration<double>(now - *lastPrint).count();
        if (!finished && since < (tty ? 0.1 : 5.0))
            return;
        *lastPrint = now;
        const double rate = p.elapsedSeconds > 0 ? double(p.done) / p.elapsedSeconds : 0;
        char line[256];
        if (p.total > 0) {
            const double frac = double(p.done) / double(p.total);
            const int width = 24, filled = int(frac * width);
            std::string bar(size_t(filled), '#');
            bar.resize(size_t(width), '.');
            std::snprintf(line, sizeof line, "%s [%s] %3.0f%% %lld/%lld %s  %.0f %s/s  ETA %s%s%s",
                          p.stage.c_str(), bar.c_str(), frac * 100, (long long)p.done,
                          (long long)p.total, p.unit.c_str(), rate, p.unit.c_str(),
                          formatSeconds(p.etaSeconds).c_str(), p.detail.empty() ? "" : "  ",
                          p.detail.c_str());
        } else {
            std::snprintf(line, sizeof line, "%s %lld %s", p.stage.c_str(), (long long)p.done, p.unit.c_str());
        }
        if (tty) {
            std::fprintf(stderr, "\r\033[K%s", line);
            g_lineOpen = true;
            if (finished)
                endProgressLine();
        } else {
            std::fprintf(stderr, "%s\n", line);
        }
        std::fflush(stderr);
    });
    ctx.setWarningHandler([](const std::string& message) {
        endProgressLine();
        std::fprintf(stderr, "warning: %s\n", message.c_str());
    });
}

void installInterruptHandler(JobContext& ctx)
{
    g_ctx.store(&ctx);
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

} // namespace

void attachToTerminal(JobContext& ctx)
{
    attachTerminalReporter(ctx);
    installInterruptHandler(ctx);
}

} // namespace mpq::cli
