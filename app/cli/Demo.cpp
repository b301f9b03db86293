#include "Demo.h"

#include "demo/DemoModel.h"

#include <string>

namespace mpq::cli {

void addDemoFlag(Args& args, DemoUse use)
{
    std::string help = "use the embedded demo model (0.33 M-parameter LLaMA, its tokenizer and texts; found "
                       "beside the program, or at $MPQ_DEMO_DIR) as MODEL";
    if (use == DemoUse::Eval)
        help += "; --dataset defaults to its demo-valid.txt";
    if (use == DemoUse::Sweep)
        help += "; --eval-datasets defaults to its demo-valid.txt";
    if (use == DemoUse::Quantize || use == DemoUse::Sweep)
        help += "; --calib defaults to its demo-calib.txt";
    if (use != DemoUse::Model)
        help += ", --seqlen to 128";
    if (use == DemoUse::Eval)
        help += ". With MODEL (e.g. a result folder of the demo model), only the defaults apply";
    args.demoFlag(help);
}

void applyDemo(Args& args, DemoUse use)
{
    if (!args.has("demo"))
        return;
    const DemoModel demo = findDemoModel();
    if (!args.has("MODEL"))
        args.set("MODEL", demo.dir);
    const auto setDefault = [&args](const char* name, const std::string& value) {
        if (!args.has(name))
            args.set(name, value);
    };
    if (use == DemoUse::Eval)
        setDefault("dataset", demo.validText);
    if (use == DemoUse::Sweep)
        setDefault("eval-datasets", demo.validText);
    if (use == DemoUse::Quantize || use == DemoUse::Sweep)
        setDefault("calib", demo.calibText);
    if (use != DemoUse::Model)
        setDefault("seqlen", std::to_string(DemoModel::kSeqlen));
}

} // namespace mpq::cli
