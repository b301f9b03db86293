// MG-PTQ's training, recorded for the teaching view (docs/teaching.md).
#include "alloc/mgptq/MgptqTrace.h"

#include "alloc/mgptq/Mgptq.h"
#include "alloc/mgptq/detail/MgptqTrain.h"
#include "core/Error.h"
#include "core/SettingError.h"
#include "model/ModelSource.h"
#include "model/detail/WeightLoader.h"
#include "pipeline/QuantizeParamsJson.h"
#include "session/Session.h"

#include <algorithm>
#include <sstream>

namespace mpq {

namespace {

std::vector<float> toVector(const at::Tensor& t)
{
    const at::Tensor c = t.to(at::kCPU).to(at::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

} // namespace

MgptqTrace traceMgptqFromSession(const std::string& sessionPath, const std::string& runName,
                                 const std::string& tensor, int frames)
{
    const session::Session s = session::Session::open(sessionPath);
    const session::RunInfo run = s.run(runName);
    if (run.method != "mgptq-gcn" && run.method != "mgptq-mlp")
        throw Error(sessionPath + "#" + runName + " is a " + run.method +
                    " run; MG-PTQ's training can be played back on MG-PTQ runs only");
    const session::MatrixDetail d = s.matrix(runName, tensor);
    const int64_t cols = d.summary.cols;
    if (int64_t(d.hessian.size()) != cols * cols)
        throw SettingError("storeHessianLimit", sessionPath + "#" + runName + ": " + tensor +
                                                    " has no stored full Hessian (wider than the stored-Hessian limit)");
    const QuantizeParams p = quantizeParamsFromJson(run.settingsJson, sessionPath + "#" + runName);
    MgptqOptions o = p.mgptq;
    o.cudaGraph = false;
    const ModelSource source = ModelSource::open(run.model.path);
    c10::InferenceMode off(false);
    const at::Tensor W = detail::loadTensor(source, tensor, at::kFloat, at::Device(at::kCPU));
    const at::Tensor H = at::tensor(d.hessian).view({cols, cols});

    MgptqTrace t;
    t.tensor = tensor;
    t.allocator = run.method;
    t.cols = cols;
    t.widths = o.bitsSet;
    std::sort(t.widths.begin(), t.widths.end());
    std::ostringstream knob;
    if (o.targetBits)
        knob << "target " << *o.targetBits << " bits";
    else if (o.alpha)
        knob << "α " << *o.alpha;
    t.knob = knob.str();
    t.epochs = mgptqEpochs(o);
    t.hessianDiagonal = d.hessianDiagonal;
    const at::Tensor bitsT = at::tensor(std::vector<float>(t.widths.begin(), t.widths.end()));
    detail::MgptqObserver observer;
    observer.every = std::max(1, t.epochs / std::max(1, frames));
    std::vector<int> frameRestart; // with restarts: every training is observed, the kept one shown
    observer.onEpoch = [&](const detail::MgptqSnapshot& snap) {
        frameRestart.push_back(snap.restart);
        MgptqTraceFrame f;
        f.epoch = snap.epoch;
        f.tau = snap.tau;
        const at::Tensor logits = snap.logits.to(at::kCPU).to(at::kFloat);
        const at::Tensor prob = at::softmax(logits, 1);
        f.probabilities = toVector(prob);
        f.sample = toVector(at::softmax((logits + snap.gumbel.to(at::kCPU)) / snap.tau, 1));
        f.expectedBits = (prob * bitsT).sum(1).mean().item<double>();
        f.argmaxBits = bitsT.index_select(0, logits.argmax(1)).mean().item<double>();
        t.frames.push_back(std::move(f));
    };
    detail::GridOptions grid;
    grid.groupSize = d.summary.groupSize;
    grid.symmetric = p.symmetric;
    const detail::MgptqColumnOrder order{p.actOrder, p.staticGroups}; // as the run planned
    const detail::MgptqResult r =
        detail::allocateMgptq(W, H, o, grid, run.method == "mgptq-gcn", nullptr, order, &observer);
    std::vector<MgptqTraceFrame> kept;
    for (size_t i = 0; i < t.frames.size(); ++i)
        if (frameRestart[i] == std::max(0, r.chosenRestart))
            kept.push_back(std::move(t.frames[i]));
    t.frames = std::move(kept);
    for (auto& f : t.frames)
        if (f.epoch < int(r.curve.size())) {
            f.loss = r.curve[size_t(f.epoch)].loss;
            f.lQuant = r.curve[size_t(f.epoch)].lQuant;
            f.lBit = r.curve[size_t(f.epoch)].lBit;
        }
    t.columnBits = r.columnBits;
    return t;
}

} // namespace mpq
