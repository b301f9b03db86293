// Serializer of one sweep: /sweeps/<name>, a table with one row per point.
#include "session/detail/Serializers.h"

#include "core/Error.h"

#include <nlohmann/json.hpp>

#include <map>

namespace mpq::session::detail {

namespace {

// A perplexity column is named after its data set, which may be a file path ("/…/demo-valid.txt"):
// '/' cannot be in an HDF5 link name, so '%' and '/' are written as %25 and %2F (names without
// them, e.g. wikitext2 and c4, are stored as they are).
std::string columnName(const std::string& dataset)
{
    std::string out;
    for (char c : dataset) {
        if (c == '%')
            out += "%25";
        else if (c == '/')
            out += "%2F";
        else
            out += c;
    }
    return out.empty() || out == "." ? "%2E" + out : out;
}

std::string datasetOfColumn(const std::string& column)
{
    std::string out;
    for (size_t i = 0; i < column.size(); ++i) {
        if (column[i] == '%' && column.compare(i, 3, "%25") == 0) {
            out += '%';
            i += 2;
        } else if (column[i] == '%' && column.compare(i, 3, "%2F") == 0) {
            out += '/';
            i += 2;
        } else if (column[i] == '%' && column.compare(i, 3, "%2E") == 0) {
            i += 2; // the marker of an empty or "." name
        } else {
            out += column[i];
        }
    }
    return out;
}

} // namespace

void writeSweep(const h5::Id& g, const Sweep& s)
{
    h5::setAttr(g, "name", s.name);
    h5::setAttr(g, "method", s.method);
    h5::setAttr(g, "axis", s.axis);
    h5::setAttr(g, "model", s.model);
    h5::setAttr(g, "created", s.created);
    std::vector<double> value, bits, bitsOv;
    nlohmann::json runs = nlohmann::json::array();
    std::vector<std::string> datasets;
    for (const auto& p : s.points) {
        value.push_back(p.value);
        bits.push_back(p.avgBits);
        bitsOv.push_back(p.avgBitsWithOverhead);
        runs.push_back(p.run);
        for (const auto& [ds, ppl] : p.perplexity)
            if (std::find(datasets.begin(), datasets.end(), ds) == datasets.end())
                datasets.push_back(ds);
    }
    h5::writeArray(g, "value", value);
    h5::writeArray(g, "avg_bits", bits);
    h5::writeArray(g, "avg_bits_with_overhead", bitsOv);
    h5::writeText(g, "runs", runs.dump());
    // One perplexity column per data set; NaN where a point lacks it.
    const h5::Id pg = h5::createGroup(g, "perplexity");
    for (const auto& ds : datasets) {
        std::vector<double> col;
        for (const auto& p : s.points) {
            double v = std::numeric_limits<double>::quiet_NaN();
            for (const auto& [name, ppl] : p.perplexity)
                if (name == ds)
                    v = ppl;
            col.push_back(v);
        }
        h5::writeArray(pg, columnName(ds), col);
    }
}

Sweep readSweep(const h5::Id& g)
{
    Sweep s;
    s.name = h5::attrString(g, "name");
    s.method = h5::attrString(g, "method");
    s.axis = h5::attrString(g, "axis");
    s.model = h5::attrString(g, "model");
    s.created = h5::attrString(g, "created");
    const auto value = h5::readArray<double>(g, "value");
    const auto bits = h5::readArray<double>(g, "avg_bits");
    const auto bitsOv = h5::readArray<double>(g, "avg_bits_with_overhead");
    nlohmann::json runs = nlohmann::json::parse(h5::readText(g, "runs", "[]"), nullptr, false);
    if (bits.size() != value.size() || bitsOv.size() != value.size() || !runs.is_array() ||
        runs.size() != value.size())
        throw Error(g.file() + ": sweep " + s.name + ": columns of different lengths");
    for (size_t i = 0; i < value.size(); ++i) {
        SweepPoint p;
        p.value = value[i];
        p.avgBits = bits[i];
        p.avgBitsWithOverhead = bitsOv[i];
        p.run = runs[i].is_string() ? runs[i].get<std::string>() : "";
        s.points.push_back(p);
    }
    if (h5::exists(g, "perplexity")) {
        const h5::Id pg = h5::openGroup(g, "perplexity");
        for (const auto& column : h5::children(pg)) {
            const auto col = h5::readArray<double>(pg, column);
            const std::string ds = datasetOfColumn(column);
            if (col.size() != s.points.size())
                throw Error(g.file() + ": sweep " + s.name + ": perplexity column " + ds + " has the wrong length");
            for (size_t i = 0; i < col.size(); ++i)
                if (col[i] == col[i]) // not NaN
                    s.points[i].perplexity.emplace_back(ds, col[i]);
        }
    }
    return s;
}

} // namespace mpq::session::detail
