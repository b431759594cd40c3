"""BigQuery: the public ``bigquery-public-data.pypi`` tables through the official client."""

from workbench.sources.bigquery.source import BigQuerySource, Confirm, make_client

__all__ = ["BigQuerySource", "Confirm", "make_client"]
