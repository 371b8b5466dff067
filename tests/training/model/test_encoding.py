"""One encoder from features to the readiness model's matrix: frame and FeatureMatrix give the same matrix."""

from __future__ import annotations

import numpy as np

from tests.serving.test_api import make_dataset, train_bundle
from training.features.snapshot_arrays import SnapshotArrays
from training.features.snapshots import SnapshotPolicy, build_snapshots


def test_frame_and_feature_matrix_encode_identically() -> None:
    dataset = make_dataset()
    bundle = train_bundle(dataset)
    features, model = bundle.pipeline[0], bundle.pipeline[-1]
    batch = build_snapshots(dataset, SnapshotPolicy(every_days=30, horizon_days=90)).batch
    arrays = SnapshotArrays.from_batch(batch, features.categorical_columns_, features.numeric_columns_)
    encoder = model.encoder()
    from_frame = encoder.encode(features.transform(batch))
    from_matrix = encoder.encode(features.transform_arrays(arrays))
    np.testing.assert_array_equal(from_frame, from_matrix)
    assert from_matrix.flags["C_CONTIGUOUS"] and from_matrix.dtype == np.float64
    # The same encoder serves every call: its layout is worked out once per fitted model.
    assert model.encoder() is encoder
    explained = model.explain(features.transform_arrays(arrays))
    np.testing.assert_allclose(explained.readiness, model.readiness(features.transform(batch)))
    # Column by column (the fit/interest tables read it so): the same values, one contiguous array each.
    columns = encoder.column_arrays(features.transform_arrays(arrays))
    assert len(columns) == from_matrix.shape[1] and all(c.flags["C_CONTIGUOUS"] for c in columns)
    np.testing.assert_array_equal(np.column_stack(columns), from_matrix)
