// The method registry: `--method NAME` -> a Method built for a dataset's classes and feature layout.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/runtime/method.h"

namespace aicl {

// Builds a method from its hyper-parameters (`config`, a JSON object or null for the defaults; errors name
// `source`).
using MethodFactory =
    std::function<std::unique_ptr<Method>(const MethodContext& ctx, const json& config, const std::string& source)>;

// Adds (or replaces) a method; the built-in ones are registered in registry.cpp, one line each.
void register_method(const std::string& name, MethodFactory factory);

// "--method: unknown method 'x' (known: aicl, ...)" for a name nobody registered.
std::unique_ptr<Method> make_method(const std::string& name, const MethodContext& ctx, const json& config,
                                    const std::string& source);

std::vector<std::string> method_names();

// The smallest T any registered method accepts (with its default hyper-parameters): the CLIs' lower bound for
// --segments before the method is known (aicl_eval learns it from the weights file).
int smallest_min_segments();

}  // namespace aicl
