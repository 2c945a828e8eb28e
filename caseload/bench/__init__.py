"""The benchmark (issue 7): a generated data set and timed scenarios, each beside a floor measured in the same run.

``manage.py bench`` (this app's command) builds or reuses the data set (``data.py``), runs the
scenarios (``scenarios.py``, the HTTP load in ``load.py``) and writes a table and a JSON record
under ``var/bench/``; ``manage.py bench_growth`` runs some of them at growing sizes (``growth.py``).
Nothing here is imported by the product: the app has no models, URLs or middleware of its own.
"""
