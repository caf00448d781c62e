#include "train_step.h"

#include "step_args.h"

namespace ulmfit {

Napi::Object StepOutcomeToJs(Napi::Env env, const StepOutcome& outcome) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("crossEntropy", outcome.crossEntropy);
  o.Set("loss", outcome.loss);
  o.Set("gradNorm", outcome.gradNorm);
  if (outcome.correct) o.Set("correct", static_cast<double>(*outcome.correct));
  o.Set("skipped", outcome.skipped);
  o.Set("applied", AppliedToJs(env, outcome.applied));
  return o;
}

}  // namespace ulmfit
