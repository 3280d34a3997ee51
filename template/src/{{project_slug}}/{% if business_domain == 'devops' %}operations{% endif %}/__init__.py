"""Operations: metric sources across clouds and the samples they report.

The foundation of the multi-cloud dashboard: sources (an AWS account, a GCP project, an
Azure subscription, a Prometheus server) and their time series, normalised to one shape
(metric name, value, timestamp, labels). Every ingested batch is announced on
`metrics:<source id>` with the latest value per metric, so live charts need no polling.
Alert rules, deployment triggers and the cloud collectors build on these series.
"""
