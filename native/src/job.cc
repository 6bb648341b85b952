#include "job.h"

namespace dso {

namespace {

class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, std::unique_ptr<Job> job)
      : Napi::AsyncWorker(env, "dso-kernel"), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override { job_->execute(); }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!job_->failCode.empty()) {
      deferred_.Reject(makeError(env, job_->failCode, job_->failMessage).Value());
      return;
    }
    deferred_.Resolve(job_->result(env));
  }

 private:
  std::unique_ptr<Job> job_;
  Napi::Promise::Deferred deferred_;
};

}  // namespace

Napi::Value runJob(Napi::Env env, std::unique_ptr<Job> job, bool async) {
  if (async) {
    auto* worker = new JobWorker(env, std::move(job));
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
  }
  job->execute();
  if (!job->failCode.empty()) throw makeError(env, job->failCode, job->failMessage);
  return job->result(env);
}

}  // namespace dso
