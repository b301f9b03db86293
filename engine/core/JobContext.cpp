#include "core/JobContext.h"

#include "core/Error.h"

namespace mpq {

JobContext::JobContext() : m_start(std::chrono::steady_clock::now()) {}

void JobContext::checkCancelled() const
{
    if (isCancelled())
        throw Cancelled();
}

void JobContext::start(std::string stage)
{
    m_stage = std::move(stage);
    m_start = std::chrono::steady_clock::now();
}

void JobContext::report(int64_t done, int64_t total, std::string unit, std::string detail)
{
    if (!m_onProgress)
        return;
    Progress p;
    p.stage = m_stage;
    p.detail = std::move(detail);
    p.done = done;
    p.total = total;
    p.unit = std::move(unit);
    p.elapsedSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    if (total > 0 && done > 0)
        p.etaSeconds = p.elapsedSeconds * double(total - done) / double(done);
    m_onProgress(p);
}

void JobContext::warn(const std::string& message)
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_warnings.push_back(message);
    }
    if (m_onWarning)
        m_onWarning(message);
}

std::vector<std::string> JobContext::warnings() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_warnings;
}

} // namespace mpq
