"""The views layer: what the graph shows and answers, with no HTTP: page models, the chart and
finder, the contribution form, editor terms, reconciliation. Imports core, data and store.
"""
