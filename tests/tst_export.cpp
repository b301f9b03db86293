// Exports: bit packing against AutoGPTQ's reference loop, GPTQ and mpq-packed matrix round trips,
// refusals, and end to end on stories260K (hf, gptq, mpq-packed → read back → identical Ŵ).
#include "TestData.h"

#include "alloc/AllocationPlan.h"
#include "core/Error.h"
#include "core/Files.h"
#include "eval/Perplexity.h"
#include "export/Export.h"
#include "export/detail/BitPack.h"
#include "export/detail/GptqPacking.h"
#include "export/detail/PackedFormat.h"
#include "model/ModelSource.h"
#include "model/SafetensorsFile.h"
#include "model/detail/WeightLoader.h"
#include "pipeline/QuantizeJob.h"
#include "runs/StoredRun.h"
#include "runs/detail/QuantizedRun.h"
#include "quant/detail/Gptq.h"
#include "quant/detail/Grid.h"
#include "quant/detail/Hqq.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

using namespace mpq;
using namespace mpq::detail;

namespace {

/// AutoGPTQ's QuantLinear.pack loop over the rows of intweight (one column), transcribed
/// literally: 2/4/8 bits per word, and 3 bits with values 10 and 21 split across words.
std::vector<uint32_t> autoGptqPackColumn(const std::vector<uint32_t>& v, int bits)
{
    std::vector<uint32_t> q(v.size() / 32 * size_t(bits), 0);
    size_t i = 0, row = 0;
    while (row < q.size()) {
        if (bits != 3) {
            for (size_t j = i; j < i + size_t(32 / bits); ++j)
                q[row] |= v[j] << (bits * (j - i));
            i += size_t(32 / bits);
            row += 1;
        } else {
            for (size_t j = i; j < i + 10; ++j)
                q[row] |= v[j] << (3 * (j - i));
            i += 10;
            q[row] |= v[i] << 30;
            row += 1;
            q[row] |= (v[i] >> 2) & 1;
            i += 1;
            for (size_t j = i; j < i + 10; ++j)
                q[row] |= v[j] << (3 * (j - i) + 1);
            i += 10;
            q[row] |= v[i] << 31;
            row += 1;
            q[row] |= (v[i] >> 1) & 0x3;
            i += 1;
            for (size_t j = i; j < i + 10; ++j)
                q[row] |= v[j] << (3 * (j - i) + 2);
            i += 10;
            row += 1;
        }
    }
    return q;
}

bool sameTensor(const at::Tensor& a, const at::Tensor& b)
{
    return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() && a.equal(b);
}

/// Ŵ with the scales rounded to fp16, as a GPTQ checkpoint holds them.
at::Tensor dequantWithHalfScales(QuantizedWeight q)
{
    q.scales = q.scales.to(at::kHalf).to(at::kFloat);
    return q.dequantize();
}

/// A GPTQ result on a random matrix with a random positive-definite H.
QuantizedWeight gptqOn(int64_t rows, int64_t cols, const at::Tensor& bits, int64_t group, bool actOrder, uint64_t seed)
{
    at::manual_seed(seed);
    const at::Tensor W = at::randn({rows, cols});
    const at::Tensor X = at::randn({4 * cols, cols});
    GptqOptions opt;
    opt.actOrder = actOrder;
    opt.grid.groupSize = group;
    return gptqQuantize(W, X.t().matmul(X) / double(X.size(0)), bits, opt);
}

at::Tensor bitsOf(int64_t cols, std::vector<int> widths, uint64_t seed)
{
    std::mt19937 rng(seed);
    std::vector<int32_t> b(static_cast<size_t>(cols));
    for (auto& x : b)
        x = widths[rng() % widths.size()];
    return at::tensor(b, at::TensorOptions().dtype(at::kInt));
}

std::map<std::string, at::Tensor> readAllEntries(const std::string& file)
{
    std::map<std::string, at::Tensor> out;
    for (const TensorEntry& e : readSafetensorsHeader(file))
        out[e.name] = readEntry(e);
    return out;
}

/// Every entry of an export's weights, over single or sharded files.
std::map<std::string, at::Tensor> readExportWeights(const std::string& dir)
{
    std::map<std::string, at::Tensor> out;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (entry.path().extension() == ".safetensors")
            for (auto& [k, v] : readAllEntries(entry.path().string()))
                out[k] = v;
    return out;
}

/// A model the end-to-end cases run on, with its texts.
struct TestModel {
    std::string path;
    std::string calib;    ///< empty: C4 from MPQ_DATA_DIR
    std::string evalText; ///< a text file, or "wikitext2" from MPQ_DATA_DIR
};

std::string dataDir()
{
    const char* d = std::getenv("MPQ_DATA_DIR");
    return d ? d : "";
}

/// The embedded demo model (safetensors, untied, 5 layers): every clone, no MPQ_DATA_DIR.
TestModel demoTestModel(const DemoModel& demo)
{
    return {demo.dir, demo.calibText, demo.validText};
}

QuantizeParams smallRun(const TestModel& model, const std::string& out)
{
    QuantizeParams p;
    p.model = model.path;
    p.method = "rtn";
    p.bits = 4;
    p.nsamples = 4;
    p.seqlen = 64;
    if (!model.calib.empty())
        p.calib = model.calib;
    p.dataDir = dataDir();
    p.out = out;
    return p;
}

} // namespace

class TestExport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void bitStreamMatchesAutoGptq()
    {
        std::mt19937 rng(7);
        for (int bits : {2, 3, 4, 8}) {
            std::vector<uint32_t> v(96);
            std::vector<uint8_t> v8(96);
            for (size_t i = 0; i < v.size(); ++i)
                v8[i] = uint8_t(v[i] = rng() & ((1u << bits) - 1));
            const std::vector<uint32_t> ref = autoGptqPackColumn(v, bits);
            std::vector<uint32_t> ours(size_t(packedWords(96, bits)), 0xdeadbeef);
            packBits(v8.data(), 96, 1, bits, ours.data(), 1);
            QCOMPARE(ours.size(), ref.size());
            for (size_t w = 0; w < ref.size(); ++w)
                QVERIFY2(ours[w] == ref[w], qPrintable(QString("%1-bit word %2").arg(bits).arg(w)));
        }
    }

    void bitStreamRoundTripsEveryWidthAndLength()
    {
        std::mt19937 rng(11);
        for (int bits = 1; bits <= 8; ++bits)
            for (int64_t n : {1, 5, 10, 11, 31, 32, 33, 77, 172}) {
                std::vector<uint8_t> v(static_cast<size_t>(n)), back(static_cast<size_t>(n), 0xff);
                for (auto& x : v)
                    x = uint8_t(rng() & ((1u << bits) - 1));
                std::vector<uint32_t> words(size_t(packedWords(n, bits)));
                packBits(v.data(), n, 1, bits, words.data(), 1);
                unpackBits(words.data(), 1, n, bits, back.data(), 1);
                QVERIFY2(v == back, qPrintable(QString("%1 bits, n %2").arg(bits).arg(n)));
            }
    }

    void gptqRoundTripActOrderAndOddShapes()
    {
        // 3-bit act-order GPTQ with groups of 16 on a 40 × 72 matrix: neither dimension a
        // multiple of 32, g_idx a permutation of groups.
        for (int bits : {2, 3, 4, 8}) {
            // GPTQ v1 cannot carry a row-group whose zero point is 0 while its top code is in use
            // (gptqZeroPointZero covers that refusal); random 16-column groups at low widths hit
            // it now and then, so take the first seed whose matrix the format can carry.
            QuantizedWeight q;
            GptqMatrix m;
            bool packed = false;
            for (uint64_t seed = 3 + uint64_t(bits); !packed && seed < 3 + uint64_t(bits) + 3000; seed += 100) {
                q = gptqOn(40, 72, at::full({72}, bits, at::kInt), 16, true, seed);
                try {
                    m = packGptq(q, "w", 16);
                    packed = true;
                } catch (const mpq::Error&) {
                }
            }
            QVERIFY2(packed, "no seed gave a matrix GPTQ v1 can carry");
            QCOMPARE(m.bits, bits);
            QCOMPARE(m.groupSize, int64_t(16));
            QVERIFY(m.descAct);
            QCOMPARE(m.qweight.size(0), packedWords(72, bits));
            QCOMPARE(m.qzeros.size(1), packedWords(40, bits));
            const QuantizedWeight back = unpackGptq(m, 40, 72);
            if (!q.zeros.eq(0).any().item<bool>()) // else codes were shifted (see below)
                QVERIFY(sameTensor(back.codes, q.codes.to(at::kByte)));
            QVERIFY(sameTensor(back.slotOfColumn, q.slotOfColumn.to(at::kInt)));
            QVERIFY(sameTensor(back.dequant, dequantWithHalfScales(q)));
        }
        // Without act-order g_idx is i / g and desc_act is false.
        const QuantizedWeight plain = gptqOn(33, 64, at::full({64}, 4, at::kInt), 32, false, 5);
        const GptqMatrix m = packGptq(plain, "w", 32);
        QVERIFY(!m.descAct);
        QVERIFY(sameTensor(unpackGptq(m, 33, 64).dequant, dequantWithHalfScales(plain)));
        // Per channel: one group, g_idx all zero.
        const QuantizedWeight pc = gptqOn(8, 48, at::full({48}, 3, at::kInt), -1, false, 6);
        const GptqMatrix mpc = packGptq(pc, "w", -1);
        QCOMPARE(mpc.groupSize, int64_t(-1));
        QCOMPARE(mpc.scales.size(0), int64_t(1));
        QVERIFY(sameTensor(unpackGptq(mpc, 8, 48).dequant, dequantWithHalfScales(pc)));
    }

    void gptqZeroPointZero()
    {
        // v1 stores zero − 1, so zero 0 is stored as 1 with the group's codes raised by one —
        // exact whenever no code of that row and group is at the top value.
        at::manual_seed(1);
        QuantizedWeight q;
        q.codes = at::randint(0, 15, {3, 64}).to(at::kByte);
        q.scales = at::rand({3, 2}) + 0.01;
        q.zeros = at::full({3, 2}, 8.0);
        q.zeros[1][0] = 0.0;
        q.slotOfColumn = at::arange(64).div(32, "floor").to(at::kInt);
        q.slotBits = {4, 4};
        q.dequant = q.dequantize();
        const QuantizedWeight back = unpackGptq(packGptq(q, "w", 32), 3, 64);
        QVERIFY(back.zeros.ge(1).all().item<bool>());
        QVERIFY(sameTensor(back.dequant, dequantWithHalfScales(q)));
        // An all-positive group has zero 0 and uses the top code: not representable, refused.
        const at::Tensor W = at::rand({6, 64}) * 0.5 + 0.1;
        const QuantizedWeight pos = rtnQuantize(W, at::full({64}, 4, at::kInt), GridOptions{32, false});
        QVERIFY(pos.zeros.eq(0).any().item<bool>());
        try {
            packGptq(pos, "w", 32);
            QFAIL("zero point 0 with the top code was accepted");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("zero point 0") != std::string::npos, e.what());
        }
    }

    void gptqRefusesWhatItCannotCarry()
    {
        const QuantizedWeight mixed = gptqOn(8, 64, bitsOf(64, {2, 3, 4}, 1), 32, false, 7);
        QVERIFY_THROWS_EXCEPTION(Error, packGptq(mixed, "w", 32));
        try {
            packGptq(mixed, "model.layers.0.mlp.up_proj.weight", 32);
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("per-column bit-widths") != std::string::npos, e.what());
            QVERIFY(std::string(e.what()).find("model.layers.0.mlp.up_proj.weight") != std::string::npos);
        }
        QVERIFY_THROWS_EXCEPTION(Error, packGptq(gptqOn(8, 64, at::full({64}, 5, at::kInt), 32, false, 8), "w", 32));
        at::manual_seed(2);
        const QuantizedWeight hqq = hqqQuantize(at::randn({8, 64}), 4, 32);
        QVERIFY(!hqq.zeros.eq(hqq.zeros.round()).all().item<bool>());
        try {
            packGptq(hqq, "w", 32);
            QFAIL("HQQ zeros were accepted");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("not an integer") != std::string::npos, e.what());
        }
    }

    void packedMatrixRoundTripMixedBits()
    {
        QTemporaryDir dir;
        // Per-column widths {2, 3, 4} in groups of 16 on 77 columns, and act-order GPTQ.
        const QuantizedWeight q = gptqOn(21, 77, bitsOf(77, {2, 3, 4}, 9), 16, true, 10);
        QVERIFY(q.slotBits.size() > 5);
        const QuantizedWeight u = gptqOn(5, 40, at::full({40}, 8, at::kInt), -1, false, 11);
        SafetensorsWriter w;
        addPackedMatrix(w, "a.weight", q);
        addPackedMatrix(w, "b.weight", u);
        const std::string file = dir.filePath("m.safetensors").toStdString();
        w.write(file);
        const auto all = readAllEntries(file);
        QVERIFY(all.count("a.weight.codes_b2") && all.count("a.weight.codes_b3") && all.count("a.weight.codes_b4"));
        // Densely packed: each width's block holds ⌈n·b/32⌉ words per row.
        const at::Tensor cb = all.at("a.weight.column_bits");
        QCOMPARE(all.at("a.weight.codes_b3").size(1), packedWords(cb.eq(3).sum().item<int64_t>(), 3));
        for (const auto& [name, orig] : {std::pair<std::string, const QuantizedWeight*>{"a.weight", &q},
                                         {"b.weight", &u}}) {
            std::map<std::string, at::Tensor> parts;
            for (const auto& [k, v] : all)
                if (k.rfind(name + ".", 0) == 0)
                    parts[k.substr(name.size() + 1)] = v;
            const QuantizedWeight back = readPackedMatrix(parts, name, file);
            QVERIFY(sameTensor(back.codes, orig->codes.to(at::kByte)));
            QVERIFY(sameTensor(back.scales, orig->scales));
            QVERIFY(sameTensor(back.zeros, orig->zeros));
            QVERIFY(sameTensor(back.slotOfColumn, orig->slotOfColumn.to(at::kInt)));
            QVERIFY(back.slotBits == orig->slotBits);
            QVERIFY(sameTensor(back.dequant, orig->dequantize()));
        }
        // A damaged permutation is refused.
        std::map<std::string, at::Tensor> parts;
        for (const auto& [k, v] : all)
            if (k.rfind("a.weight.", 0) == 0)
                parts[k.substr(9)] = v.clone();
        parts["perm"][0] = parts["perm"][1].item<int>();
        QVERIFY_THROWS_EXCEPTION(Error, readPackedMatrix(parts, "a.weight", file));
    }

    // Rows: the embedded demo model (safetensors, F16, untied; every clone) and stories260K
    // (llama2.c, F32, tied embeddings, interleaved rotary rows; from MPQ_DATA_DIR).
    void endToEnd_data()
    {
        QTest::addColumn<QString>("modelName");
        QTest::addColumn<int>("group");
        QTest::addColumn<QString>("tokenizerFile");
        // Groups of 128 on the demo's 64- and 192-column matrices, of 32 on stories260K's
        // 172-column MLP: a partial group in each.
        QTest::newRow("demo") << "demo" << 128 << "tokenizer.json";
        QTest::newRow("stories260K") << "stories260K" << 32 << "tokenizer.model";
    }

    void endToEnd()
    {
        QFETCH(QString, modelName);
        QFETCH(int, group);
        QFETCH(QString, tokenizerFile);
        TestModel model;
        if (modelName == QLatin1String("demo")) {
            MPQ_DEMO_MODEL(demo);
            model = demoTestModel(demo);
        } else {
            MPQ_DATA_PATH(bin, "models/stories260K/stories260K.bin");
            model = {bin, "", "wikitext2"};
        }
        QTemporaryDir dir;
        auto path = [&](const char* name) { return dir.filePath(name).toStdString(); };
        const ModelSource base = ModelSource::open(model.path);

        // A run with per-column widths {2,3,4}.
        QuantizeParams p = smallRun(model, path("mixed"));
        AllocationPlan plan = AllocationPlan::uniform(base.config(), 4, group, "rtn");
        uint64_t seed = 1;
        for (MatrixPlan& m : plan.matrices) {
            const at::Tensor b = bitsOf(m.cols, {2, 3, 4}, seed++);
            m.columnBits.assign(b.data_ptr<int32_t>(), b.data_ptr<int32_t>() + b.numel());
        }
        p.plan = plan;
        JobContext ctx;
        quantizeModel(p, ctx);
        const auto run = openQuantizedRun(p.out);

        // mpq-packed: read back through openQuantizedRun, identical matrices and perplexity.
        ExportParams e;
        e.input = p.out;
        e.format = ExportFormat::MpqPacked;
        e.outDir = path("packed");
        int progress = 0;
        ctx.setProgressHandler([&](const Progress& pr) { progress += pr.unit == "layers"; });
        const ExportReport pr = exportRun(e, ctx);
        QCOMPARE(pr.quantizedMatrices, int64_t(35));
        QCOMPARE(progress, 5);
        QVERIFY(isQuantizedRun(e.outDir));
        const auto packed = openQuantizedRun(e.outDir);
        QCOMPARE(packed->modelPath(), run->modelPath());
        QCOMPARE(packed->plan().matrices.size(), plan.matrices.size());
        QVERIFY(packed->layers() == run->layers());
        for (int64_t i : run->layers()) {
            auto a = run->layer(i), b = packed->layer(i);
            QCOMPARE(a.size(), b.size());
            for (size_t k = 0; k < a.size(); ++k) {
                QCOMPARE(a[k].first, b[k].first);
                QVERIFY(sameTensor(a[k].second.codes, b[k].second.codes));
                QVERIFY(sameTensor(a[k].second.dequant, b[k].second.dequant));
            }
        }
        EvalParams ev;
        ev.dataset = model.evalText;
        ev.seqlen = 128;
        ev.maxWindows = 2;
        ev.dataDir = p.dataDir;
        ev.model = p.out;
        const double pplRun = evaluatePerplexity(ev, ctx).perplexity;
        ev.model = e.outDir;
        QCOMPARE(evaluatePerplexity(ev, ctx).perplexity, pplRun);

        // hf: every tensor in fp16; quantized ones are fp16(Ŵ), the rest fp16 of the base model.
        e.format = ExportFormat::HuggingFace;
        e.outDir = path("hf");
        e.maxShardBytes = 200 << 10; // several shards
        exportRun(e, ctx);
        QVERIFY(files::exists(files::join(e.outDir, "model.safetensors.index.json")));
        QVERIFY(files::exists(files::join(e.outDir, tokenizerFile.toStdString())));
        const ModelSource hf = ModelSource::open(e.outDir);
        QCOMPARE(hf.config().hiddenSize, base.config().hiddenSize);
        QCOMPARE(hf.config().tieWordEmbeddings, base.config().tieWordEmbeddings);
        std::map<std::string, at::Tensor> dequant;
        for (int64_t i : run->layers())
            for (auto& [name, q] : run->layer(i))
                dequant[name] = q.dequant;
        const at::Device cpu(at::kCPU);
        for (const TensorEntry& t : hf.tensors()) {
            QCOMPARE(int(t.type), int(StorageType::F16));
            const at::Tensor got = readEntry(t);
            const at::Tensor want = dequant.count(t.name) ? dequant[t.name].to(at::kHalf)
                                                          : loadTensor(base, t.name, at::kHalf, cpu);
            QVERIFY2(sameTensor(got, want), t.name.c_str());
        }
        QCOMPARE(hf.tensors().size(), base.tensors().size());

        // gptq: the mixed run is refused, naming the matrix; nothing is left behind.
        e.format = ExportFormat::Gptq;
        e.outDir = path("gptq-mixed");
        try {
            exportRun(e, ctx);
            QFAIL("per-column bits were exported as GPTQ");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("per-column") != std::string::npos, err.what());
        }
        QVERIFY(!files::exists(e.outDir) && !files::exists(e.outDir + ".partial"));

        // gptq of a per-matrix run: 4-bit g32 everywhere but 3-bit down_proj → dynamic overrides.
        QuantizeParams u = smallRun(model, path("uniform"));
        AllocationPlan up = AllocationPlan::uniform(base.config(), 4, group, "rtn");
        for (MatrixPlan& m : up.matrices)
            if (m.linear == "down_proj")
                m.columnBits.assign(size_t(m.cols), 3);
        u.plan = up;
        u.symmetric = true; // zeros 2^(b-1): never the zero 0 that v1 cannot store
        quantizeModel(u, ctx);
        e.input = u.out;
        e.outDir = path("gptq");
        exportRun(e, ctx);
        const std::string config = files::readAll(files::join(e.outDir, "config.json"));
        QVERIFY(config.find("\"quant_method\": \"gptq\"") != std::string::npos);
        QVERIFY(config.find("\"checkpoint_format\": \"gptq\"") != std::string::npos);
        QVERIFY(config.find("\"sym\": true") != std::string::npos);
        QVERIFY2(config.find("\"+:model\\\\.layers\\\\.4\\\\.mlp\\\\.down_proj\"") != std::string::npos, config.c_str());
        const auto gw = readExportWeights(e.outDir);
        const auto urun = openQuantizedRun(u.out);
        int checked = 0;
        for (int64_t i : urun->layers())
            for (auto& [name, q] : urun->layer(i)) {
                const std::string module = name.substr(0, name.size() - 7);
                GptqMatrix m;
                m.qweight = gw.at(module + ".qweight");
                m.qzeros = gw.at(module + ".qzeros");
                m.scales = gw.at(module + ".scales");
                m.gIdx = gw.at(module + ".g_idx");
                m.bits = q.slotBits[0];
                QVERIFY(!gw.count(name));
                const QuantizedWeight back = unpackGptq(m, q.codes.size(0), q.codes.size(1));
                QVERIFY2(sameTensor(back.dequant, dequantWithHalfScales(q)), name.c_str());
                ++checked;
            }
        QCOMPARE(checked, 35);
        QVERIFY(sameTensor(gw.at("model.norm.weight"), loadTensor(base, "model.norm.weight", at::kHalf, cpu)));
    }

    void badInputsGiveClearErrors()
    {
        MPQ_DEMO_MODEL(demo);
        const TestModel model = demoTestModel(demo);
        QTemporaryDir dir;
        JobContext ctx;
        ExportParams e;
        e.input = dir.filePath("no-such-run").toStdString();
        e.outDir = dir.filePath("out").toStdString();
        try {
            exportRun(e, ctx);
            QFAIL("a missing run was exported");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("no-such-run") != std::string::npos, err.what());
        }
        QVERIFY(!files::exists(e.outDir));

        QuantizeParams p = smallRun(model, dir.filePath("r").toStdString());
        quantizeModel(p, ctx);
        e.input = p.out;
        // A non-empty output folder is not replaced without force.
        std::filesystem::create_directories(e.outDir);
        std::ofstream(files::join(e.outDir, "keep.txt")) << "x";
        QVERIFY_THROWS_EXCEPTION(Error, exportRun(e, ctx));
        QVERIFY(files::exists(files::join(e.outDir, "keep.txt")));
        e.force = true;
        exportRun(e, ctx);
        QVERIFY(!files::exists(files::join(e.outDir, "keep.txt")));
        QVERIFY(files::exists(files::join(e.outDir, "config.json")));
        // An output under a regular file cannot be created.
        e.outDir = files::join(files::join(e.outDir, "config.json"), "sub");
        QVERIFY_THROWS_EXCEPTION(Error, exportRun(e, ctx));
        // A bad dtype is refused before anything is written.
        e.outDir = dir.filePath("out2").toStdString();
        e.dtype = "int4";
        QVERIFY_THROWS_EXCEPTION(Error, exportRun(e, ctx));
        QVERIFY(!files::exists(e.outDir) && !files::exists(e.outDir + ".partial"));
        // Cancellation leaves nothing behind.
        e.dtype = "fp16";
        ctx.setProgressHandler([&](const Progress& pr) {
            if (pr.unit == "layers" && pr.done >= 2)
                ctx.requestCancel();
        });
        QVERIFY_THROWS_EXCEPTION(Cancelled, exportRun(e, ctx));
        QVERIFY(!files::exists(e.outDir) && !files::exists(e.outDir + ".partial"));
    }
};

QTEST_GUILESS_MAIN(TestExport)
#include "tst_export.moc"
