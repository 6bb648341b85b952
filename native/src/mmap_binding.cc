// mapFile(path) -> SharedArrayBuffer over a private, copy-on-write mapping of
// the whole file: loads an index without copying its codes. A
// SharedArrayBuffer, so the worker threads that search shards of the index
// see the same pages with no copy and no second mapping; the pages are
// unmapped when the last thread drops the buffer. The descriptor is closed at
// once: the mapping holds the inode, so replacing the file by rename (as
// BinaryIndex.save does) leaves it valid. Pages come from the page cache on
// first touch; writes through the buffer stay in this process. Truncating the
// file in place while it is mapped is not supported.
#include <string>

#include "args.h"
#include "bindings.h"
#include "v8_values.h"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#endif

namespace dso {

namespace {

#if defined(__unix__) || defined(__APPLE__)
Napi::Value mapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) fail("INVALID_ARGUMENT", "mapFile expects a path");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  // O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are mapped.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail("IO_ERROR", "could not open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    fail("IO_ERROR", "could not stat " + path + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    fail("NOT_A_FILE", path + " is not a regular file");
  }
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::EscapableHandleScope scope(isolate);
  // mmap cannot map nothing: an empty file is an empty buffer, which the
  // loader then refuses as it refuses an empty file it reads.
  if (st.st_size <= 0) {
    close(fd);
    return toNapi(env, scope.Escape(v8::SharedArrayBuffer::New(isolate, 0)));
  }
  const size_t length = static_cast<size_t>(st.st_size);
  void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const int err = errno;
  close(fd);
  if (base == MAP_FAILED) fail("IO_ERROR", "could not map " + path + ": " + std::strerror(err));
  std::unique_ptr<v8::BackingStore> store = v8::SharedArrayBuffer::NewBackingStore(
      base, length, [](void* data, size_t len, void*) { munmap(data, len); }, nullptr);
  return toNapi(env, scope.Escape(v8::SharedArrayBuffer::New(isolate, std::move(store))));
}
#else
Napi::Value mapFile(const Napi::CallbackInfo&) {
  fail("IO_ERROR", "memory-mapped files are not supported on this platform");
}
#endif

}  // namespace

void registerMmap(Napi::Env env, Napi::Object exports) {
  exports.Set("mapFile", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, mapFile); }));
}

}  // namespace dso
