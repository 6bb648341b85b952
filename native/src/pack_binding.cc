// pack(x, dim, groupSize, baseline|null, opts, out?: { codes, scales }) -> { codes, scales }
// dequantize(codes, scales, dim, groupSize, baseline|null, opts, out?: Float32Array) -> Float32Array
// An out given is filled and returned (it must not overlap an input).
#include <cmath>
#include <string>

#include "args.h"
#include "bindings.h"
#include "job.h"

namespace dso {

namespace {

struct PackShape {
  size_t rows, dim, groupSize, bytesPerRow, groups;
};

PackShape packShape(size_t rows, const Napi::Value& dimV, const Napi::Value& groupV) {
  PackShape s{};
  s.rows = rows;
  s.dim = wholeNumber(dimV, "dim", "INVALID_DIM", 1, kMaxElements);
  s.groupSize = groupV.IsUndefined() || groupV.IsNull()
                    ? s.dim
                    : wholeNumber(groupV, "groupSize", "INVALID_GROUP_SIZE", 1, s.dim);
  s.bytesPerRow = (s.dim + 7) / 8;
  s.groups = (s.dim + s.groupSize - 1) / s.groupSize;
  return s;
}

View<float> optionalBaseline(const Napi::Value& v, size_t dim) {
  View<float> b;
  if (v.IsUndefined() || v.IsNull()) return b;
  b = privateCopy(floatArray(v, "baseline"));
  if (b.length != dim)
    fail("LENGTH_MISMATCH",
         "baseline must hold dim = " + std::to_string(dim) + " values, got " + std::to_string(b.length));
  for (size_t j = 0; j < b.length; ++j)
    if (!std::isfinite(b.data[j]))
      fail("NON_FINITE", "baseline holds a NaN or infinite value at index " + std::to_string(j));
  return b;
}

class PackJob : public Job {
 public:
  PackJob(const KernelTable* t, View<float> x, View<float> b, PackShape s, const Napi::Value& out)
      : table_(t), x_(std::move(x)), baseline_(std::move(b)), s_(s) {
    const bool given = !out.IsUndefined();
    codes_.provide(given ? outField(out, "codes") : out, s.rows * s.bytesPerRow, "out.codes");
    scales_.provide(given ? outField(out, "scales") : out, s.rows * s.groups, "out.scales");
    if (!given) return;
    // The baseline is a private copy (optionalBaseline), so only x can share the outputs' memory.
    codes_.apart(x_.data, x_.length, "out.codes", "x");
    scales_.apart(x_.data, x_.length, "out.scales", "x");
    scales_.apart(codes_.data(), codes_.length(), "out.scales", "out.codes");
  }
  void execute() override {
    if (s_.rows == 0) return;
    check(table_->pack(x_.data, s_.rows, s_.dim, s_.groupSize, baseline_.data, codes_.data(), scales_.data()),
          "x holds a NaN or infinite value (or x - baseline overflows) in row ");
  }
  Napi::Value result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("codes", codes_.value(env));
    o.Set("scales", scales_.value(env));
    return o;
  }

 private:
  const KernelTable* table_;
  View<float> x_, baseline_;
  PackShape s_;
  Output<uint8_t> codes_;
  Output<float> scales_;
};

class DequantizeJob : public Job {
 public:
  DequantizeJob(const KernelTable* t, View<uint8_t> c, View<float> sc, View<float> b, PackShape s,
                const Napi::Value& out)
      : table_(t), codes_(std::move(c)), scales_(std::move(sc)), baseline_(std::move(b)), s_(s) {
    out_.provide(out, s.rows * s.dim, "out");
    // Scales and baseline are private copies, so only the codes can share out's memory.
    out_.apart(codes_.data, codes_.length, "out", "codes");
  }
  void execute() override {
    if (s_.rows == 0) return;
    table_->dequantize(codes_.data, scales_.data, s_.rows, s_.dim, s_.groupSize, baseline_.data, out_.data());
  }
  Napi::Value result(Napi::Env env) override { return out_.value(env); }

 private:
  const KernelTable* table_;
  View<uint8_t> codes_;
  View<float> scales_, baseline_;
  PackShape s_;
  Output<float> out_;
};

Napi::Value pack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View<float> x = floatArray(info[0], "x");
  PackShape s = packShape(0, info[1], info[2]);
  if (x.length % s.dim != 0)
    fail("LENGTH_MISMATCH",
         "x.length (" + std::to_string(x.length) + ") is not a multiple of dim (" + std::to_string(s.dim) + ")");
  s.rows = x.length / s.dim;
  View<float> b = optionalBaseline(info[3], s.dim);
  CallOptions o = callOptions(optionsArg(info, 4));
  const Napi::Value out = outArg(info, 5);
  return runJob(env, std::make_unique<PackJob>(o.table, std::move(x), std::move(b), s, out), o.async);
}

Napi::Value dequantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View<uint8_t> codes = byteArray(info[0], "codes");
  View<float> scales = privateCopy(floatArray(info[1], "scales"));
  PackShape s = packShape(0, info[2], info[3]);
  if (scales.length % s.groups != 0)
    fail("LENGTH_MISMATCH", "scales.length (" + std::to_string(scales.length) + ") is not a multiple of the " +
                                std::to_string(s.groups) + " groups per row");
  s.rows = scales.length / s.groups;
  if (codes.length != s.rows * s.bytesPerRow)
    fail("LENGTH_MISMATCH", "codes.length must be rows x ceil(dim/8) = " + std::to_string(s.rows * s.bytesPerRow) +
                                " for " + std::to_string(s.rows) + " rows of scales, got " +
                                std::to_string(codes.length));
  if (s.rows * s.dim > kMaxElements) fail("TOO_LARGE", "the dequantized output would exceed 2^31-1 values");
  for (size_t i = 0; i < scales.length; ++i)
    if (!std::isfinite(scales.data[i]) || scales.data[i] < 0)
      fail("INVALID_SCALE",
           "scales must be finite and >= 0; index " + std::to_string(i) + " holds " + std::to_string(scales.data[i]));
  View<float> b = optionalBaseline(info[4], s.dim);
  CallOptions o = callOptions(optionsArg(info, 5));
  const Napi::Value out = outArg(info, 6);
  return runJob(env,
                std::make_unique<DequantizeJob>(o.table, std::move(codes), std::move(scales), std::move(b), s, out),
                o.async);
}

}  // namespace

void registerPack(Napi::Env env, Napi::Object exports) {
  exports.Set("pack", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, pack); }));
  exports.Set("dequantize",
              Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return guarded(i, dequantize); }));
}

}  // namespace dso
