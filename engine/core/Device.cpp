#include "core/Device.h"

#include "core/Error.h"
#include "core/detail/TorchDevice.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace mpq {

DType parseDType(const std::string& text)
{
    std::string t = text;
    std::transform(t.begin(), t.end(), t.begin(), ::tolower);
    if (t == "fp32" || t == "float32" || t == "float")
        return DType::F32;
    if (t == "fp16" || t == "float16" || t == "half")
        return DType::F16;
    if (t == "bf16" || t == "bfloat16")
        return DType::BF16;
    throw Error("unknown dtype \"" + text + "\" (use fp32, fp16 or bf16)");
}

const char* dtypeName(DType t)
{
    switch (t) {
    case DType::F32: return "fp32";
    case DType::F16: return "fp16";
    case DType::BF16: return "bf16";
    }
    return "?";
}

void configureThreads(int threads)
{
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(threads);
}

int cpuThreads()
{
    return at::get_num_threads();
}

bool cudaAvailable()
{
    return at::hasCUDA() && at::getNumGPUs() > 0;
}

void checkDevice(const std::string& device)
{
    if (device == "cpu")
        return;
    if (device.rfind("cuda", 0) != 0)
        throw Error("unknown device \"" + device + "\" (use cpu, cuda or cuda:N)");
    if (!at::hasCUDA())
        throw Error("device \"" + device + "\" requested, but this build's LibTorch has no CUDA "
                    "support (build against a CUDA LibTorch via CMAKE_PREFIX_PATH)");
    if (at::getNumGPUs() == 0)
        throw Error("device \"" + device + "\" requested, but no CUDA GPU is visible");
    try {
        const at::Device d(device);
        if (d.has_index() && d.index() >= static_cast<int>(at::getNumGPUs()))
            throw Error("device \"" + device + "\" does not exist");
    } catch (const c10::Error&) {
        throw Error("malformed device \"" + device + "\"");
    }
}

namespace {

/// "1 thread", "16 threads": torch's intra-op threads.
std::string threadCount()
{
    const int n = at::get_num_threads();
    return std::to_string(n) + (n == 1 ? " thread" : " threads");
}

} // namespace

std::string deviceDescription(const std::string& device)
{
    if (device.rfind("cuda", 0) != 0) {
        std::ifstream cpuinfo("/proc/cpuinfo");
        std::string line;
        while (std::getline(cpuinfo, line))
            if (line.rfind("model name", 0) == 0) {
                auto colon = line.find(':');
                if (colon != std::string::npos)
                    return "CPU: " + line.substr(colon + 2) + " (" + threadCount() + ")";
            }
        return "CPU (" + threadCount() + ")";
    }
    // The driver lists each GPU's model under /proc (one folder per PCI address); this avoids a
    // CUDA runtime dependency. cuda:N is taken as the N-th in PCI order (CUDA's order when
    // CUDA_DEVICE_ORDER=PCI_BUS_ID; with the default order and mixed GPU models it may differ).
    const auto colon = device.find(':');
    const size_t index = colon == std::string::npos ? 0 : size_t(std::atoi(device.c_str() + colon + 1));
    std::error_code ec;
    std::vector<std::filesystem::path> gpus;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/driver/nvidia/gpus", ec))
        gpus.push_back(entry.path());
    std::sort(gpus.begin(), gpus.end());
    if (index < gpus.size()) {
        std::ifstream info(gpus[index] / "information");
        std::string line;
        while (std::getline(info, line))
            if (line.rfind("Model:", 0) == 0) {
                const auto start = line.find_first_not_of(" \t", 6);
                return "GPU: " + (start == std::string::npos ? line : line.substr(start));
            }
    }
    return "GPU " + device;
}

std::vector<DeviceChoice> availableDevices()
{
    std::vector<DeviceChoice> out{{"cpu", deviceDescription("cpu")}};
    if (!at::hasCUDA())
        return out;
    for (int i = 0; i < int(at::getNumGPUs()); ++i) {
        const std::string id = "cuda:" + std::to_string(i);
        out.push_back({id, deviceDescription(id)});
    }
    return out;
}

namespace detail {

at::ScalarType scalarType(DType t)
{
    switch (t) {
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    }
    return at::kFloat;
}

at::Device torchDevice(const std::string& device)
{
    return at::Device(device);
}

void synchronize(const at::Device& device)
{
    // Reading a value back waits for the work queued on the current stream; this works with
    // every LibTorch version (DeviceGuardImpl::synchronizeDevice is not in older ones).
    if (device.is_cuda())
        (void)at::zeros({1}, at::TensorOptions().device(device)).sum().item<float>();
}

at::Tensor PinnedTransfer::staging(const at::Tensor& like)
{
    const int64_t bytes = like.numel() * int64_t(like.element_size());
    if (!m_buffer.defined() || m_buffer.numel() < bytes)
        m_buffer = at::empty({std::max<int64_t>(bytes, 1)}, at::TensorOptions().dtype(at::kByte).pinned_memory(true));
    return m_buffer.narrow(0, 0, bytes).view(like.scalar_type()).view(like.sizes());
}

at::Tensor PinnedTransfer::toHost(const at::Tensor& src)
{
    if (src.is_cpu())
        return src;
    at::Tensor out = staging(src);
    out.copy_(src); // not non_blocking: the copy, then the current stream's synchronisation
    return out;
}

void PinnedTransfer::toDevice(const at::Tensor& src, at::Tensor& dst)
{
    if (dst.is_cpu()) {
        dst.copy_(src);
        return;
    }
    at::Tensor in = staging(src);
    in.copy_(src);
    dst.copy_(in); // not non_blocking: the buffer is free again when it returns
}

Tf32Scope::Tf32Scope(bool enable) : m_active(enable)
{
    if (m_active) {
        m_previous = at::globalContext().float32MatmulPrecision();
        at::globalContext().setFloat32MatmulPrecision("high");
    }
}

// LibTorch 2.9+ multiplies bf16/fp16 matrices into an fp32 result (addmm's out_dtype) on CUDA.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 9)
#define MPQ_HAVE_ADDMM_OUT_DTYPE 1
#else
#define MPQ_HAVE_ADDMM_OUT_DTYPE 0
#endif

bool halfProductInFloat(const at::Tensor& a)
{
    return MPQ_HAVE_ADDMM_OUT_DTYPE && a.is_cuda() &&
           (a.scalar_type() == at::kBFloat16 || a.scalar_type() == at::kHalf);
}

void addHalfProduct(at::Tensor& out, const at::Tensor& a, const at::Tensor& b)
{
#if MPQ_HAVE_ADDMM_OUT_DTYPE
    at::addmm_out(out, out, a, b, at::kFloat);
#else
    (void)out;
    (void)a;
    (void)b;
    throw Error("fp32 sums of half-precision products need LibTorch 2.9 or later");
#endif
}

Tf32Scope::~Tf32Scope()
{
    if (m_active)
        at::globalContext().setFloat32MatmulPrecision(
            m_previous == at::Float32MatmulPrecision::HIGHEST ? "highest"
            : m_previous == at::Float32MatmulPrecision::HIGH  ? "high"
                                                               : "medium");
}

} // namespace detail
} // namespace mpq
