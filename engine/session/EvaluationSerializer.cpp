// Serializer of one evaluation: /evaluations/<id>.
#include "session/detail/Serializers.h"

namespace mpq::session::detail {

void writeEvaluation(const h5::Id& g, const Evaluation& e)
{
    h5::setAttr(g, "id", e.id);
    h5::setAttr(g, "run", e.run);
    h5::setAttr(g, "model", e.model);
    h5::setAttr(g, "dataset", e.dataset);
    h5::setAttr(g, "protocol", e.protocol);
    h5::setAttr(g, "seqlen", e.seqlen);
    h5::setAttr(g, "perplexity", e.perplexity);
    h5::setAttr(g, "mean_nll", e.meanNll);
    h5::setAttr(g, "tokens", e.tokens);
    h5::setAttr(g, "created", e.created);
    h5::writeText(g, "result", e.resultJson);
}

Evaluation readEvaluation(const h5::Id& g)
{
    Evaluation e;
    e.id = h5::attrInt(g, "id");
    e.run = h5::attrString(g, "run");
    e.model = h5::attrString(g, "model");
    e.dataset = h5::attrString(g, "dataset");
    e.protocol = h5::attrString(g, "protocol", "gptq");
    e.seqlen = h5::attrInt(g, "seqlen");
    e.perplexity = h5::attrDouble(g, "perplexity");
    e.meanNll = h5::attrDouble(g, "mean_nll");
    e.tokens = h5::attrInt(g, "tokens");
    e.created = h5::attrString(g, "created");
    e.resultJson = h5::readText(g, "result", "{}");
    return e;
}

} // namespace mpq::session::detail
