#include "session/EvaluationRecord.h"

namespace mpq::session {

Evaluation evaluationRecord(const std::string& run, const std::string& model, const EvalResult& r)
{
    Evaluation e;
    e.run = run;
    e.model = model;
    e.dataset = r.dataset;
    e.protocol = r.protocol;
    e.seqlen = r.seqlen;
    e.perplexity = r.perplexity;
    e.meanNll = r.meanNll;
    e.tokens = r.tokens;
    e.resultJson = r.toJson();
    return e;
}

} // namespace mpq::session
