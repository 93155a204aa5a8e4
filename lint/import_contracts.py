"""An import-linter contract type of our own: no import cycle between any two modules.

import-linter's `acyclic_siblings` counts a package with all it holds, so a route
package's `routes.py` (above `sales/`) and its `store.py` (below it) would make
`auth -> sales -> auth` a cycle. The layers this project checks are modules, so cycles
are looked for between modules: any strongly connected group of two or more.
"""

from importlinter import Contract, ContractCheck, fields, output


class AcyclicModulesContract(Contract):
    type_name = "acyclic_modules"

    root = fields.StringField()

    def check(self, graph, verbose):
        modules = sorted(m for m in graph.modules if m == self.root or m.startswith(f"{self.root}."))
        imports = {m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i in modules) for m in modules}
        cycles = [group for group in strongly_connected(modules, imports) if len(group) > 1]
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles, "imports": imports})

    def render_broken_contract(self, check):
        for group in check.metadata["cycles"]:
            output.print_error(f"These modules import each other, in a cycle: {', '.join(sorted(group))}")
            for module in sorted(group):
                inside = [i for i in check.metadata["imports"][module] if i in group]
                output.print_error(f"  {module} imports {', '.join(inside)}")
            output.new_line()


def strongly_connected(nodes, edges):
    """Tarjan's algorithm: the groups of nodes that can each reach all the others."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in edges[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = set()
            while node not in group:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
            groups.append(group)

    for node in nodes:
        if node not in index:
            visit(node)
    return groups
