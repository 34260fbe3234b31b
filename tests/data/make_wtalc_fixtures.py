#!/usr/bin/python3
# Writes the small numpy-made .npy fixtures of tests/cpu/test_pickle.cpp and test_wtalc.cpp (run once with
# Debian's python3-numpy 1.24; the outputs are committed). np.save pickles object arrays at protocol 3.
import os
import pickle
import sys

import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "wtalc")
os.makedirs(OUT, exist_ok=True)


def fresh(s):
    # A new str object, as json.load or bytes.decode give: pickle then writes it again instead of a memo reference.
    return "".join(list(s))


def objects(items):
    a = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        a[i] = x
    return a


def save(name, array):
    np.save(os.path.join(OUT, name), array, allow_pickle=True)


def save_pickle(name, array, protocol):
    # np.save's header, then a pickle of another protocol (as files written by other tools or Python 2 carry).
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, np.lib.format.header_data_from_array_1_0(array))
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(buf.getvalue())
        pickle.dump(array, f, protocol=protocol)


videos = ["video_validation_0000001", "video_validation_0000002", "video_test_0000001", "video_test_0000002"]
labels = [["Diving", "CliffDiving"], ["GolfSwing"], [], ["TennisSwing", "TennisSwing"]]
segments = [[[0.5, 2.0], [3.0, 3.5]], [[0.1, 1.3]], [], [[0.0, 1.0], [1.2, 1.9]]]
save("videoname.npy", np.array([v.encode() for v in videos]))
save("subset.npy", np.array([b"validation", b"validation", b"test", b"test"]))
save("classlist.npy", np.array([c.encode() for c in sorted(["BaseballPitch", "CliffDiving", "Diving", "GolfSwing",
                                                              "TennisSwing"])]))
save("duration.npy", np.array([4.58, 2.66, 3.3, 2.02]))
save("duration_col.npy", np.array([4.58, 2.66, 3.3, 2.02]).reshape(-1, 1))
save("labels.npy", objects([[fresh(x) for x in l] for l in labels]))
save("labels_all.npy", objects([[fresh(x) for x in dict.fromkeys(l)] for l in labels]))
save("segments.npy", objects([[[s, e] for s, e in l] for l in segments]))
save("unicode_labels.npy", objects([[fresh("Crème brûlée"), fresh("Ωmega")], [fresh("x")], [fresh("x")]]))
save("floats.npy", objects([np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5,
                            np.array([[1.0, -2.0, 3.25]], dtype=np.float32),
                            np.arange(72, dtype=np.float32).reshape(24, 3)]))
save("one_float.npy", objects([np.arange(4, dtype=np.float32).reshape(1, 4)]))
save("batch1001.npy", objects([[] for _ in range(1001)]))
save("scalars.npy", objects([[np.float64(1.5), np.float32(2.5)], [np.int64(-3), np.bool_(True)]]))
save("unicode_array.npy", np.array(["a", "bcd"]))
save("str_objects.npy", objects([fresh("video_a"), fresh("video_b")]))
save_pickle("proto2_floats.npy", objects([np.array([[0.5, 1.5]], dtype=np.float32),
                                          np.array([[2.5]], dtype=np.float64)]), 2)
save_pickle("proto4_labels.npy", objects([[fresh("Diving")], [fresh("GolfSwing"), fresh("Diving")]]), 4)
