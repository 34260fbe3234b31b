// Op cases of kernels/broadcast: SAL's propagation e + s ⊗ a and the background-weighted CAS x·(1 − a).
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/broadcast.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

// The device runs the CPU's float operations in the CPU's order: outputs and gradients bit for bit.
OpCase outer_add_case(int B, int Tn, int D, unsigned checks) {
  OpCase c;
  c.op = "outer_add";
  c.params = "B=" + std::to_string(B) + " T=" + std::to_string(Tn) + " D=" + std::to_string(D);
  c.checks = checks;
  const std::size_t ne = std::size_t(B) * Tn * D;
  c.inputs = {float_in("e", ne, true, true), float_in("s", std::size_t(B) * D, true, true),
              float_in("a", std::size_t(B) * Tn, true, true)};
  c.outputs = {float_out("out", ne, {Cmp::bits})};
  c.make_inputs = [=](Values<double>& in) {
    in.f[0] = random_vector(ne, 61, 0, 2);
    in.f[1] = random_vector(std::size_t(B) * D, 62);
    in.f[2] = random_vector(std::size_t(B) * Tn, 63, 0, 1);
  };
  c.set_cpu_forward([=](const auto& a) { aicl::outer_add_forward(a.out[0], a.in[0], a.in[1], a.in[2], B, Tn, D); });
  c.set_cpu_backward([=](const auto& a) {
    aicl::outer_add_backward(a.din[0], a.din[1], a.din[2], a.dout[0], a.in[1], a.in[2], B, Tn, D);
  });
  c.grad.prefill = 0.5;
  c.grad.proj_seed = 64;
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::outer_add_forward_cuda(a.out[0], a.in[0], a.in[1], a.in[2], B, Tn, D, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::outer_add_backward_cuda(a.din[0], a.din[1], a.din[2], a.dout[0], a.in[1], a.in[2], B, Tn, D, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::bits};
  c.cuda_prefill = 0.5;
  return c;
}

OpCase complement_scale_case(int B, int Tn, int C, unsigned checks) {
  OpCase c;
  c.op = "complement_scale";
  c.params = "B=" + std::to_string(B) + " T=" + std::to_string(Tn) + " C=" + std::to_string(C);
  c.checks = checks;
  const std::size_t nx = std::size_t(B) * Tn * C;
  c.inputs = {float_in("x", nx, true, true), float_in("a", std::size_t(B) * Tn, true, true)};
  c.outputs = {float_out("out", nx, {Cmp::bits})};
  c.make_inputs = [=](Values<double>& in) {
    in.f[0] = random_vector(nx, 71, -3, 3);
    in.f[1] = random_vector(std::size_t(B) * Tn, 72, 0, 1);
  };
  c.set_cpu_forward([=](const auto& a) { aicl::complement_scale_forward(a.out[0], a.in[0], a.in[1], B, Tn, C); });
  c.set_cpu_backward([=](const auto& a) {
    aicl::complement_scale_backward(a.din[0], a.din[1], a.dout[0], a.in[0], a.in[1], B, Tn, C);
  });
  c.grad.prefill = -0.5;
  c.grad.proj_seed = 73;
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::complement_scale_forward_cuda(a.out[0], a.in[0], a.in[1], B, Tn, C, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::complement_scale_backward_cuda(a.din[0], a.din[1], a.dout[0], a.in[0], a.in[1], B, Tn, C, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::bits};
  c.cuda_prefill = 0.5;
  return c;
}

std::vector<OpCase> outer_add_cases() {
  const unsigned grad = kGradCheck | kCuda | kPerf;
  // Gradient-check shapes; SAL's training shape (B = 2, T = 750, D = 512) on the device.
  return {outer_add_case(1, 1, 1, grad), outer_add_case(2, 5, 3, grad), outer_add_case(3, 4, 7, grad),
          outer_add_case(2, 750, 512, kCuda | kPerf)};
}

std::vector<OpCase> complement_scale_cases() {
  const unsigned grad = kGradCheck | kCuda | kPerf;
  return {complement_scale_case(1, 1, 1, grad), complement_scale_case(2, 6, 5, grad),
          complement_scale_case(2, 750, 20, kCuda | kPerf)};
}

}  // namespace

AICL_REGISTER_OP(outer_add_cases);
AICL_REGISTER_OP(complement_scale_cases);

}  // namespace aicl_test::ops
