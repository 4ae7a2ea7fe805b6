"""Planning: the dependency graph, the plan of a run (requests, order, critical path), drawings."""
