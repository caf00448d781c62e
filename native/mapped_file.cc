#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "args.h"
#include "errors.h"

namespace ulmfit {

namespace {

class Mapping {
 public:
  Mapping(void* data, size_t size) : data_(data), size_(size) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (data_ != nullptr) munmap(data_, size_);
  }
  char* data() const { return static_cast<char*>(data_); }
  size_t size() const { return size_; }

 private:
  void* data_;
  size_t size_;
};

std::string SystemError(const std::string& what, const std::string& path) { return what + " " + path + ": " + std::strerror(errno); }

std::shared_ptr<Mapping> Open(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ArgumentError(SystemError("mapFile: cannot open", path));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    std::string message = SystemError("mapFile: cannot stat", path);
    close(fd);
    throw ArgumentError(message);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    throw ArgumentError("mapFile: " + path + " is not a regular file");
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    close(fd);
    return std::make_shared<Mapping>(nullptr, 0);
  }
  // Private and writable: a JS write into a view lands in a private copy of the page (never in the file,
  // never a fault), so no view handed to JS can crash the process.
  void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int mapErrno = errno;
  close(fd);  // the mapping keeps the file alive, even if it is unlinked
  if (data == MAP_FAILED) {
    errno = mapErrno;
    throw ArgumentError(SystemError("mapFile: cannot map", path));
  }
  return std::make_shared<Mapping>(data, size);
}

Napi::Value View(const Napi::CallbackInfo& info, const std::shared_ptr<Mapping>& mapping) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    throw ArgumentError("view(byteOffset, byteLength): both must be numbers");
  }
  double offset = info[0].As<Napi::Number>().DoubleValue();
  double length = info[1].As<Napi::Number>().DoubleValue();
  double size = static_cast<double>(mapping->size());
  if (!(offset >= 0) || !(length >= 0) || offset != static_cast<double>(static_cast<uint64_t>(offset)) ||
      length != static_cast<double>(static_cast<uint64_t>(length)) || offset + length > size) {
    throw ArgumentError("view: [" + std::to_string(offset) + ", +" + std::to_string(length) + ") is outside the mapped file of " +
                        std::to_string(mapping->size()) + " bytes");
  }
  if (length == 0) return Napi::ArrayBuffer::New(env, 0);
  auto* hold = new std::shared_ptr<Mapping>(mapping);
  return Napi::ArrayBuffer::New(
      env, mapping->data() + static_cast<size_t>(offset), static_cast<size_t>(length),
      [](Napi::Env, void*, std::shared_ptr<Mapping>* held) { delete held; }, hold);
}

}  // namespace

Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  std::shared_ptr<Mapping> mapping = Open(path);
  Napi::Object result = Napi::Object::New(env);
  result.Set("byteLength", Napi::Number::New(env, static_cast<double>(mapping->size())));
  result.Set("view", Napi::Function::New(env, [mapping](const Napi::CallbackInfo& call) -> Napi::Value {
               try {
                 return View(call, mapping);
               } catch (const Napi::Error&) {
                 throw;
               } catch (...) {
                 throw ToJsError(call.Env(), DescribeCurrentException());
               }
             }));
  return result;
}

}  // namespace ulmfit
