// mapFile(path | fd) -> ArrayBuffer over a private, copy-on-write mapping of
// the whole file: loads an index without copying its codes. Given a file
// descriptor (worker threads share the process's table), every thread maps
// the same inode whatever happens to the path later. Pages come from the
// page cache on first touch; writes through the buffer stay in this process.
// Replacing the file by rename (as BinaryIndex.save does) leaves the mapping
// valid; truncating the file in place while it is mapped is not supported.
#include <string>

#include "args.h"
#include "bindings.h"

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
struct Mapping {
  void* base;
  size_t length;
};

void unmap(Napi::Env env, void*, Mapping* m) {
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(m->length));
  munmap(m->base, m->length);
  delete m;
}

Napi::Value mapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool byFd = info.Length() >= 1 && info[0].IsNumber();
  if (!byFd && (info.Length() < 1 || !info[0].IsString())) fail("INVALID_ARGUMENT", "mapFile expects a path or a file descriptor");
  const std::string path = byFd ? "fd " + std::to_string(info[0].As<Napi::Number>().Int32Value()) : info[0].As<Napi::String>().Utf8Value();
  const int fd = byFd ? info[0].As<Napi::Number>().Int32Value() : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("IO_ERROR", "could not open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0) {
    if (!byFd) close(fd);
    fail("IO_ERROR", "could not map " + path + ": empty or unreadable");
  }
  const size_t length = static_cast<size_t>(st.st_size);
  void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const int err = errno;
  if (!byFd) close(fd);
  if (base == MAP_FAILED) fail("IO_ERROR", "could not map " + path + ": " + std::strerror(err));
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(length));
  return Napi::ArrayBuffer::New(env, base, length, unmap, new Mapping{base, length});
}
#else
Napi::Value mapFile(const Napi::CallbackInfo&) { fail("IO_ERROR", "memory-mapped files are not supported on this platform"); }
#endif

}  // namespace

void registerMmap(Napi::Env env, Napi::Object exports) {
  exports.Set("mapFile", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, mapFile); }));
}

}  // namespace dso
