"""Method modules: one file per method, each registered with `plasticbench.benchmark.registry.register_method`."""
