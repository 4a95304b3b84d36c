"""A parsed module for analysis tests: its metadata, and its nodes to find by source text."""

from __future__ import annotations

import textwrap

import libcst as cst
from libcst.metadata import MetadataWrapper

from reviewer.analysis.facts import ModuleFacts, module_names_for_path


class ParsedModule:
    def __init__(self, source: str, path: str) -> None:
        self.path = path
        self.wrapper = MetadataWrapper(cst.parse_module(textwrap.dedent(source)))
        self.facts = ModuleFacts.from_wrapper(self.wrapper, module_names_for_path(path))
        self.nodes: list[cst.CSTNode] = []
        nodes = self.nodes

        class Collect(cst.CSTVisitor):
            def on_visit(self, node: cst.CSTNode) -> bool:
                nodes.append(node)
                return True

        self.wrapper.module.visit(Collect())

    def code(self, node: cst.CSTNode) -> str:
        return self.wrapper.module.code_for_node(node)

    def line(self, node: cst.CSTNode) -> int:
        return self.facts.line(node)
