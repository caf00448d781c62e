"""The TF-IDF + logistic regression baseline of the studies, on the same tasks and the same labelled subsets as
ULMFiT (replicate/tasks.js writes them): word 1-2 grams, with or without character 2-5 grams (within word
boundaries), sublinear term frequencies, and an L2-regularised logistic regression; the features and C are
chosen by 3-fold cross-validation on the run's own training labels. Error rate on the held-out examples.

    node replicate/tasks.js ablate-out/tasks
    python3 replicate/tfidf_baseline.py ablate-out/tasks replicate/baseline-results   # needs scikit-learn

Writes one JSON file per task, label count and seed (an existing one is kept: the script resumes);
replicate/ablation-report.js puts them beside the ablation's rows.
"""
import json
import os
import shutil
import sys
import tempfile
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.model_selection import GridSearchCV, StratifiedKFold


def char_ngrams():
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, lowercase=True)


def pipeline(cache):
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, lowercase=True)
    return Pipeline([("features", FeatureUnion([("word", word), ("char", char_ngrams())])), ("model", LogisticRegression(max_iter=5000))], memory=cache)


# Chosen by cross-validation on the run's own labels: whether character n-grams join the words, and C over a
# range wide enough that the choice is never its edge on these tasks (the vectorisers are fitted inside each
# fold, so no held-out fold shapes the features).
GRID = {"features__char": ["drop", char_ngrams()], "model__C": [0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0]}


def run(task, key, cache):
    subset = task["subsets"][key]
    train = [task["train"][i] for i in subset]
    texts, labels = [d["text"] for d in train], [d["label"] for d in train]
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    search = GridSearchCV(pipeline(cache), GRID, cv=folds, n_jobs=1, error_score="raise")
    search.fit(texts, labels)
    predicted = search.predict([d["text"] for d in task["valid"]])
    errors = sum(p != d["label"] for p, d in zip(predicted, task["valid"]))
    best = search.best_params_
    return dict(errorRate=errors / len(task["valid"]), count=len(task["valid"]), C=best["model__C"], charNgrams=best["features__char"] != "drop")


def main(tasks_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    # The fitted features of each fold, kept while C varies (only the model is refitted).
    cache = tempfile.mkdtemp(prefix="tfidf-")
    try:
        write_runs(tasks_dir, out_dir, cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def write_runs(tasks_dir, out_dir, cache):
    for name in sorted(f[:-5] for f in os.listdir(tasks_dir) if f.endswith(".json")):
        with open(os.path.join(tasks_dir, f"{name}.json")) as f:
            task = json.load(f)
        for key in task["subsets"]:
            file = os.path.join(out_dir, f"{name}-{key}.json")
            if os.path.exists(file):
                continue
            labels, seed = key.rsplit("-", 1)
            started = time.time()
            result = dict(task=name, method="tfidf", labels=labels if labels == "all" else int(labels), seed=int(seed), **run(task, key, cache))
            result["seconds"] = time.time() - started
            with open(file, "w") as f:
                json.dump(result, f, indent=1)
            print(f"{name} {labels} labels seed {seed}: {100 * result['errorRate']:.2f}% error (C {result['C']}, character n-grams {result['charNgrams']})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
