"""Plausible wrong solutions for unit 04 (a safe interpreter), one learner mistake each.

Each wrong answer is the solution cell of
`solutions/04-safe-interpreter/04-safe-interpreter.ipynb` with one edit, written as (what the
solution says, what the learner wrote instead), so the list stays in step with the notebook.
`tests/test_units.py` swaps each into the released notebook and checks that `evaluate` loses
points. The comment above each names the test cell that catches it.
"""

from grader.mistakes import solution_editor

_edit = solution_editor("04-safe-interpreter", "evaluate")


WRONG = {
    "evaluate": [
        # `and`/`or` with all()/any(): a bool instead of the deciding value (`0 and 1/0` gives
        # False, `None or "x"` gives True). Caught by test_evaluate_expressions_hidden.
        _edit(
            (
                "    for value_node in node.values:\n"
                "        value = run_node(value_node, scopes)\n"
                "        # `and` stops at the first falsy value, `or` at the first truthy one.\n"
                "        if isinstance(node.op, ast.And) and not value:\n"
                "            return value\n"
                "        if isinstance(node.op, ast.Or) and value:\n"
                "            return value\n"
                "    return value\n",
                "    values = (run_node(value_node, scopes) for value_node in node.values)\n"
                "    return all(values) if isinstance(node.op, ast.And) else any(values)\n",
            )
        ),
        # Only the first link of a chained comparison: `1 < 3 < 2` is True.
        # Caught by test_evaluate_expressions_hidden.
        _edit(
            (
                "    left = run_node(node.left, scopes)\n"
                "    for op, right_node in zip(node.ops, node.comparators):\n"
                "        right = run_node(right_node, scopes)\n"
                "        result = COMPARE_OPERATORS[type(op)](left, right)\n"
                "        if not result:\n"
                "            return result\n"
                "        left = right\n"
                "    return result\n",
                "    left = run_node(node.left, scopes)\n"
                "    right = run_node(node.comparators[0], scopes)\n"
                "    return COMPARE_OPERATORS[type(node.ops[0])](left, right)\n",
            )
        ),
        # `x += y` as `x = x + y`: a list's other names do not see the change, and zip() in
        # unpacking silently drops extra values. Caught by test_evaluate_statements_hidden.
        _edit(
            (
                "    operation = AUGMENTED_OPERATORS[type(node.op)]\n",
                "    operation = BINARY_OPERATORS[type(node.op)]\n",
            ),
            (
                "        if len(values) != len(target.elts):\n"
                '            raise ValueError(f"expected {len(target.elts)} values to unpack, '
                'got {len(values)}")\n',
                "",
            ),
        ),
        # A loop's else runs every time, break or not. Caught by test_evaluate_statements_hidden.
        _edit(
            (
                "        except ContinueLoop:\n"
                "            continue\n"
                "    else:  # Python's own for-else has exactly the meaning we need\n"
                "        run_block(node.orelse, scopes)\n",
                "        except ContinueLoop:\n"
                "            continue\n"
                "    run_block(node.orelse, scopes)\n",
            )
        ),
        # `state = state or {}`: an empty dict from the caller is replaced by a new one, so the
        # caller's state never fills. Caught by test_evaluate_functions (visible).
        _edit(
            (
                "    state = {} if state is None else state\n",
                "    state = state or {}\n",
            )
        ),
        # The function body runs in the defining scopes, arguments written into them: locals
        # leak out and recursion overwrites its own arguments. Caught by
        # test_evaluate_functions_hidden.
        _edit(
            (
                "            run_block(body, [*scopes, dict(bound.arguments)])"
                "  # a fresh local scope per call\n",
                "            scopes[-1].update(bound.arguments)\n"
                "            run_block(body, scopes)\n",
            )
        ),
        # The printed text is stored only when the code succeeds: what it printed before an
        # error is lost (and the previous call's text stays). Caught by
        # test_evaluate_functions_hidden.
        _edit(
            (
                '    finally:\n        state[PRINT_KEY] = "".join(run.printed)\n    return result',
                '    state[PRINT_KEY] = "".join(run.printed)\n    return result',
            )
        ),
        # Names fall back to the real builtins: eval, open, getattr, __import__ all work.
        # Caught by test_evaluate_guards (visible).
        _edit(
            (
                '    if name.startswith("__"):\n'
                '        raise InterpreterError(f"{name!r} is not allowed: names starting with '
                "'__' are off limits\")\n",
                "",
            ),
            (
                "    if hasattr(builtins, name):  # a real builtin that is not on our allowlist\n"
                '        allowed = ", ".join(sorted(run.builtins))\n'
                '        raise InterpreterError(f"{name!r} is not allowed here. Allowed builtins: '
                '{allowed}")\n'
                '    raise NameError(f"name {name!r} is not defined")\n',
                "    return getattr(builtins, name)\n",
            ),
        ),
        # Only dunder attributes are refused: `random._os` still leads to os.system.
        # Caught by test_evaluate_guards_hidden.
        _edit(('    if name.startswith("_"):\n', '    if name.startswith("__"):\n')),
        # Imports checked on their first part only: `import os.path` passes with "os".
        # Caught by test_evaluate_guards_hidden.
        _edit(
            (
                "        ensure_authorized(alias.name, run)\n",
                '        ensure_authorized(alias.name.split(".")[0], run)\n',
            )
        ),
        # Modules reached as attributes are not checked: `statistics.sys` passes.
        # Caught by test_evaluate_guards_hidden.
        _edit(
            (
                "    if isinstance(value, types.ModuleType):\n"
                "        parent = obj.__name__ if isinstance(obj, types.ModuleType) else "
                "type(obj).__name__\n"
                '        ensure_authorized(f"{parent}.{name}", run)\n',
                "",
            )
        ),
        # str.format templates are not checked: "{0.__class__}".format(1) walks attributes.
        # Caught by test_evaluate_guards_hidden.
        _edit(
            (
                "        if isinstance(obj, str):\n            check_format_string(obj)\n",
                "",
            )
        ),
        # No call-depth limit and no RecursionError fallback: runaway recursion surfaces as
        # Python's RecursionError. Caught by test_evaluate_budgets_hidden.
        _edit(
            (
                "        if run.depth >= MAX_DEPTH:\n"
                "            raise InterpreterError(\n"
                '                f"more than {MAX_DEPTH} nested function calls: is a recursion '
                'missing its base "\n'
                '                "case? Use a loop instead."\n'
                "            )\n",
                "",
            ),
            (
                "    except RecursionError:\n"
                "        # A fallback for code nested so deeply that Python's own stack ran out "
                "first.\n"
                '        raise InterpreterError("the code nests too deeply: flatten it")'
                " from None\n",
                "",
            ),
        ),
        # One Run kept for the whole state: the budget (and the printed text) carry over from
        # call to call. Caught by test_evaluate_budgets_hidden.
        _edit(
            (
                "    run = Run(authorized_imports, max_operations)\n",
                "    run = state.get(RUN_KEY) or Run(authorized_imports, max_operations)\n",
            )
        ),
    ],
}
