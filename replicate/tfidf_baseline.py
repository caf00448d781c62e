"""The TF-IDF + logistic regression baseline of the studies, on the same tasks and the same labelled subsets as
ULMFiT (replicate/tasks.js writes them): word 1-2 grams and character 2-5 grams (within word boundaries),
sublinear term frequencies, and an L2-regularised logistic regression whose C is chosen by 3-fold
cross-validation on the run's own training labels. Error rate on the held-out examples.

    node replicate/tasks.js ablate-out/tasks
    python3 replicate/tfidf_baseline.py ablate-out/tasks replicate/baseline-results   # needs scikit-learn

Writes one JSON file per task, label count and seed (an existing one is kept: the script resumes);
replicate/ablation-report.js puts them beside the ablation's rows.
"""
import json
import os
import sys
import time

from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold


def features(train_texts, valid_texts):
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, lowercase=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, lowercase=True)
    x_train = hstack([word.fit_transform(train_texts), char.fit_transform(train_texts)]).tocsr()
    x_valid = hstack([word.transform(valid_texts), char.transform(valid_texts)]).tocsr()
    return x_train, x_valid


def run(task, key):
    subset = task["subsets"][key]
    train = [task["train"][i] for i in subset]
    texts, labels = [d["text"] for d in train], [d["label"] for d in train]
    x_train, x_valid = features(texts, [d["text"] for d in task["valid"]])
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    search = GridSearchCV(LogisticRegression(max_iter=2000), {"C": [0.1, 1.0, 10.0, 100.0]}, cv=folds, n_jobs=1)
    search.fit(x_train, labels)
    predicted = search.predict(x_valid)
    errors = sum(p != d["label"] for p, d in zip(predicted, task["valid"]))
    return dict(errorRate=errors / len(task["valid"]), count=len(task["valid"]), C=search.best_params_["C"])


def main(tasks_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name in sorted(f[:-5] for f in os.listdir(tasks_dir) if f.endswith(".json")):
        with open(os.path.join(tasks_dir, f"{name}.json")) as f:
            task = json.load(f)
        for key in task["subsets"]:
            file = os.path.join(out_dir, f"{name}-{key}.json")
            if os.path.exists(file):
                continue
            labels, seed = key.rsplit("-", 1)
            started = time.time()
            result = dict(task=name, method="tfidf", labels=labels if labels == "all" else int(labels), seed=int(seed), **run(task, key))
            result["seconds"] = time.time() - started
            with open(file, "w") as f:
                json.dump(result, f, indent=1)
            print(f"{name} {labels} labels seed {seed}: {100 * result['errorRate']:.2f}% error (C {result['C']})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
