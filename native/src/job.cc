#include "job.h"

namespace dso {

namespace {

// An async call in flight: the job, its promise, and the libuv work item.
struct Pending {
  std::unique_ptr<Job> job;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
};

void executePending(napi_env, void* data) { static_cast<Pending*>(data)->job->execute(); }

// Settles the promise on the JS thread. Nothing may leave this function as a
// C++ exception: it returns into Node's C code, where one would abort the
// process. When a worker thread is terminated during the call, Node still
// runs this while tearing the thread's environment down, with JavaScript
// disallowed: building the result or the error then fails (a Napi::Error or
// a Failure), and so does settling. The promise is left unsettled (nothing
// can await it any more) and the job's memory is freed all the same.
void completePending(napi_env env, napi_status status, void* data) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(data));
  napi_delete_async_work(env, p->work);
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  try {
    Napi::Env e(env);
    Job& job = *p->job;
    if (status != napi_ok) {
      job.failCode = "WORKER_FAILED";
      job.failMessage = "the kernel call was cancelled";
    }
    if (job.failCode.empty()) {
      // The result itself can fail: a caller's out array detached during the call.
      try {
        napi_resolve_deferred(env, p->deferred, job.result(e));
      } catch (const Failure& f) {
        job.failCode = f.code;
        job.failMessage = f.message;
      }
    }
    if (!job.failCode.empty())
      napi_reject_deferred(env, p->deferred, makeError(e, job.failCode, job.failMessage).Value());
  } catch (...) {
    // Outside a teardown this cannot happen short of V8 running out of
    // memory; reject rather than leave a caller waiting forever.
    napi_value message, error;
    if (napi_create_string_utf8(env, "the kernel result could not be returned", NAPI_AUTO_LENGTH, &message) ==
            napi_ok &&
        napi_create_error(env, nullptr, message, &error) == napi_ok)
      napi_reject_deferred(env, p->deferred, error);
  }
  napi_close_handle_scope(env, scope);
}

Napi::Value queue(Napi::Env env, std::unique_ptr<Job> job) {
  auto p = std::make_unique<Pending>();
  p->job = std::move(job);
  napi_value promise, name;
  if (napi_create_promise(env, &p->deferred, &promise) != napi_ok)
    fail("WORKER_FAILED", "could not create the call's promise");
  if (napi_create_string_utf8(env, "dso-kernel", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, nullptr, name, executePending, completePending, p.get(), &p->work) != napi_ok) {
    napi_reject_deferred(env, p->deferred, makeError(env, "WORKER_FAILED", "could not create the async work").Value());
    return Napi::Value(env, promise);
  }
  if (napi_queue_async_work(env, p->work) != napi_ok) {
    napi_delete_async_work(env, p->work);
    napi_reject_deferred(env, p->deferred, makeError(env, "WORKER_FAILED", "could not queue the async work").Value());
    return Napi::Value(env, promise);
  }
  p.release();  // completePending owns it now
  return Napi::Value(env, promise);
}

}  // namespace

Napi::Value runJob(Napi::Env env, std::unique_ptr<Job> job, bool async) {
  if (async) return queue(env, std::move(job));
  job->execute();
  if (!job->failCode.empty()) throw makeError(env, job->failCode, job->failMessage);
  return job->result(env);
}

}  // namespace dso
