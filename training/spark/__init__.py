"""leadripe on Apache Spark: sessions and tables (``session``), the executors' part of training
(``groups``) and the driver's (``source``). Needs the ``spark`` extra (``pip install 'leadripe[spark]'``)."""
