// Op cases of kernels/mse_loss: mean squared error with gradients to both inputs (the shortest registration: a template).
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/mse_loss.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

// n = 37 in [-1, 1) for the gradient check; 1, odd, just over one block's chunk (4096), the training size
// (16*750) and above 1024 chunks (the capped multi-block grid) in [0, 1) for the device.
OpCase mse_case(std::size_t n, bool grad_shape) {
  OpCase c;
  c.op = "mse_loss";
  c.params = "n=" + std::to_string(n);
  c.checks = grad_shape ? kGradCheck | kCuda | kPerf : kCuda | kPerf;
  // The loss: float sums on the device in another (fixed) order than the CPU's double sums: 1e-5 relative.
  c.inputs = {float_in("a", n, true, /*nullable=*/true), float_in("b", n, true, /*nullable=*/true)};
  c.outputs = {float_out("loss", 1, {Cmp::rel_to_max, 1e-5})};
  c.make_inputs = [n, grad_shape](Values<double>& in) {
    in.f[0] = grad_shape ? random_vector(n, 5) : random_vector(n, 201, 0, 1);
    in.f[1] = grad_shape ? random_vector(n, 6) : random_vector(n, 202, 0, 1);
  };
  c.make_dout = [](std::vector<std::vector<double>>& d) { d[0] = {5.0}; };
  c.set_cpu_forward([n](const auto& a) { a.out[0][0] = aicl::mse_forward(a.in[0], a.in[1], n); });
  c.set_cpu_backward([n](const auto& a) { aicl::mse_backward(a.din[0], a.din[1], a.dout_host[0][0], a.in[0], a.in[1], n); });
  c.grad.prefill = 1.0;
#if AICL_HAVE_CUDA
  c.forward_cuda = [n](const Args<float>& a) { aicl::mse_forward_cuda(a.out[0], a.in[0], a.in[1], n, stream_of(a)); };
  c.backward_cuda = [n](const Args<float>& a) {
    aicl::mse_backward_cuda(a.din[0], a.din[1], a.dout_host[0][0], a.in[0], a.in[1], n, stream_of(a));
  };
#endif
  // Element-wise gradients carry a few roundings: 2e-6 of the increment, which the prefill matches in size
  // (2 * 5 * |a - b| / n) so that its rounding does not swamp them.
  c.cuda_grad = {Cmp::rel_to_max, 2e-6, 1e-12};
  c.cuda_prefill = 10.0 / double(n);
  c.cuda_deterministic_forward = true;
  c.cuda_null_grad_same_bits = true;
  return c;
}

std::vector<OpCase> mse_loss_cases() {
  std::vector<OpCase> cs{mse_case(37, true)};
  for (std::size_t n : {std::size_t(1), std::size_t(7), std::size_t(4097), std::size_t(12000), std::size_t(5000001)})
    cs.push_back(mse_case(n, false));
  return cs;
}

}  // namespace

AICL_REGISTER_OP(mse_loss_cases);

}  // namespace aicl_test::ops
