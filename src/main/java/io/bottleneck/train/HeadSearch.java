package io.bottleneck.train;

import io.bottleneck.io.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hyper-parameter search over the head, in the manner of Spark ML's {@code TrainValidationSplit}:
 * one head per combination of a {@link SearchSpace} (all of them in order, or a seeded random
 * sample), each trained by {@link HeadTrainer} with the base configuration's early stopping and
 * learning-rate plateau, and the one with the lowest best validation loss wins (ties: the first).
 * Every trial is recorded: its values, epochs, and the metrics of its best epoch.
 *
 * <p>The input Datasets are checked, converted and persisted once per search ({@link
 * TrainingInput}), and every trial trains on those cached rows: a Dataset whose plan is
 * expensive (a Parquet scan, the join with the feature cache) is computed once, not once per
 * trial, and all trials see the same rows in the same order. Callers need not persist them.
 */
public final class HeadSearch {
  private static final Logger LOG = LoggerFactory.getLogger(HeadSearch.class);

  /** How the trials are chosen from the space. */
  public enum Strategy {
    /** Every combination in the space's order, up to the number of trials. */
    GRID,
    /** Distinct combinations drawn with the seed, in the order drawn. */
    RANDOM;

    /** "grid" or "random" (the configuration's spelling, case-insensitive). */
    public static Strategy parse(String name) {
      for (Strategy s : values()) {
        if (s.name().equalsIgnoreCase(name)) {
          return s;
        }
      }
      throw new IllegalArgumentException("strategy must be grid or random but was " + name);
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final SearchSpace space;
  private final Strategy strategy;
  private final int trials;
  private final long seed;

  /**
   * @param trials the most trials to run; fewer when the space has fewer combinations
   * @param seed the random strategy's draws
   */
  public HeadSearch(SearchSpace space, Strategy strategy, int trials, long seed) {
    this.space = Objects.requireNonNull(space, "space");
    this.strategy = Objects.requireNonNull(strategy, "strategy");
    if (trials < 1) {
      throw new IllegalArgumentException("trials must be >= 1 but was " + trials);
    }
    this.trials = trials;
    this.seed = seed;
  }

  /** The combinations the search trains, in trial order: min(trials, space size) of them. */
  public List<HeadParams> candidates(HeadConfig base) {
    long size = space.size();
    int n = (int) Math.min(trials, size);
    List<HeadParams> out = new ArrayList<>(n);
    if (strategy == Strategy.GRID) {
      for (int i = 0; i < n; i++) {
        out.add(space.combination(i, base));
      }
      return out;
    }
    // SplittableRandom mixes the seed: java.util.Random's first draws are nearly the same for
    // nearby seeds (for seeds 1 to 11, nextLong(4) first gives 0 every time).
    SplittableRandom random = new SplittableRandom(seed);
    Set<Long> drawn = new LinkedHashSet<>();
    while (drawn.size() < n) {
      drawn.add(random.nextLong(size));
    }
    for (long index : drawn) {
      out.add(space.combination(index, base));
    }
    return out;
  }

  /**
   * Trains one head per candidate on {@code train} and compares them on {@code validation}
   * (features array&lt;float&gt;, label_index int in [0, numClasses), as for {@link
   * HeadTrainer#fit}); every trial configuration is validated before the first one trains.
   *
   * @throws IllegalArgumentException without validation rows: trials are compared on them
   */
  public Result fit(
      JavaSparkContext sc,
      Dataset<Row> train,
      Dataset<Row> validation,
      int numClasses,
      HeadConfig base) {
    Objects.requireNonNull(sc, "sc");
    Objects.requireNonNull(base, "base");
    if (validation == null) {
      throw noValidation();
    }
    List<HeadParams> candidates = candidates(base);
    HeadTrainer.requireClassWeightsMatch(base, numClasses);
    List<HeadConfig> configs = new ArrayList<>(candidates.size());
    for (int i = 0; i < candidates.size(); i++) {
      try {
        configs.add(candidates.get(i).applyTo(base));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "Trial " + i + " " + candidates.get(i).toMap() + " is not a valid head: "
                + e.getMessage(), e);
      }
    }
    LOG.info(
        "Head search: {} trials ({} of {} combinations), picked by val_loss",
        configs.size(), strategy, space.size());

    List<Trial> done = new ArrayList<>();
    int best = -1;
    TrainedHead bestHead = null;
    try (TrainingInput input = TrainingInput.prepare(train, validation, numClasses)) {
      if (!input.hasValidation()) {
        throw noValidation();
      }
      for (int i = 0; i < configs.size(); i++) {
        LOG.info("Trial {}/{}: {}", i + 1, configs.size(), candidates.get(i).toMap());
        long start = System.nanoTime();
        TrainedHead head = HeadTrainer.fit(sc, input, configs.get(i), List.of());
        double seconds = (System.nanoTime() - start) / 1e9;
        Trial trial = Trial.of(i, candidates.get(i), head, seconds);
        done.add(trial);
        LOG.info(
            String.format(
                Locale.ROOT,
                "Trial %d/%d: val_loss %.4f, val_accuracy %.4f at epoch %d of %d (%.1fs)",
                i + 1, configs.size(), trial.valLoss(), trial.valAccuracy(), trial.bestEpoch() + 1,
                trial.epochsRun(), seconds));
        // NaN (a diverged trial) never wins over a finite loss.
        if (best < 0 || rank(trial.valLoss()) < rank(done.get(best).valLoss())) {
          best = i;
          bestHead = head;
        }
      }
    }
    Result result = new Result(strategy, done, best, configs.get(best), bestHead);
    LOG.info(
        "Head search: trial {} of {} wins with val_loss {}: {}",
        best, done.size(), String.format(Locale.ROOT, "%.4f", done.get(best).valLoss()),
        candidates.get(best).toMap());
    return result;
  }

  private static double rank(double loss) {
    return Double.isNaN(loss) ? Double.POSITIVE_INFINITY : loss;
  }

  private static IllegalArgumentException noValidation() {
    return new IllegalArgumentException(
        "The head search compares trials by validation loss and needs validation rows, but the"
            + " validation set is empty or missing.");
  }

  /**
   * One trained trial.
   *
   * @param number 0-based, in training order
   * @param params the values trained with
   * @param epochsRun epochs trained (fewer than the maximum when stopped early)
   * @param bestEpoch 0-based epoch of the lowest validation loss, whose weights the head keeps
   *     (with restore-best-weights)
   * @param valLoss validation cross-entropy (unweighted) at the best epoch
   * @param valAccuracy validation accuracy at the best epoch
   * @param loss training cross-entropy (unweighted) at the best epoch
   * @param accuracy training accuracy at the best epoch
   * @param seconds wall time of the trial's training
   */
  public record Trial(
      int number,
      HeadParams params,
      int epochsRun,
      int bestEpoch,
      double valLoss,
      double valAccuracy,
      double loss,
      double accuracy,
      double seconds) {

    static Trial of(int number, HeadParams params, TrainedHead head, double seconds) {
      EpochStats b = head.best();
      return new Trial(
          number, params, head.history().size(), head.bestEpoch(), b.validationLoss(),
          b.validationAccuracy(), b.trainLoss(), b.trainAccuracy(), seconds);
    }

    /** One flat object: trial, the params, then the results; keys as in {@link #CSV_HEADER}. */
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("trial", number);
      m.putAll(params.toMap());
      m.put("epochs_run", epochsRun);
      m.put("best_epoch", bestEpoch);
      m.put("val_loss", valLoss);
      m.put("val_accuracy", valAccuracy);
      m.put("loss", loss);
      m.put("accuracy", accuracy);
      m.put("seconds", Math.round(seconds * 100) / 100.0);
      return m;
    }
  }

  /** The columns of {@link Result#toCsv()}. */
  public static final String CSV_HEADER =
      "trial,hidden_units,dropout,learning_rate,l2,batch_norm,optimizer,epochs_run,best_epoch,"
          + "val_loss,val_accuracy,loss,accuracy,seconds";

  /**
   * What a search did.
   *
   * @param strategy how the trials were chosen
   * @param trials every trial, in training order
   * @param best index into {@code trials} of the winner
   * @param bestConfig the winner's complete configuration
   * @param bestHead the winner's trained head
   */
  public record Result(
      Strategy strategy, List<Trial> trials, int best, HeadConfig bestConfig, TrainedHead bestHead) {

    public Result {
      trials = List.copyOf(trials);
      if (best < 0 || best >= trials.size()) {
        throw new IllegalArgumentException(
            "best must index one of the " + trials.size() + " trials but was " + best);
      }
    }

    public Trial bestTrial() {
      return trials.get(best);
    }

    /**
     * The trials table: {@link #CSV_HEADER}, one row per trial; hidden_units as a quoted list
     * ({@code "[256, 128]"}), numbers to 6 significant digits, NaN as an empty field (as
     * history.csv).
     */
    public String toCsv() {
      StringBuilder b = new StringBuilder(CSV_HEADER).append('\n');
      for (Trial t : trials) {
        HeadParams p = t.params();
        b.append(
            String.format(
                Locale.ROOT,
                "%d,\"%s\",%s,%s,%s,%s,%s,%d,%d,%s,%s,%s,%s,%.2f%n",
                t.number(),
                p.hiddenUnits(),
                num(p.dropout()),
                num(p.learningRate()),
                num(p.l2()),
                p.batchNorm(),
                p.optimizer(),
                t.epochsRun(),
                t.bestEpoch(),
                num(t.valLoss()),
                num(t.valAccuracy()),
                num(t.loss()),
                num(t.accuracy()),
                t.seconds()));
      }
      return b.toString();
    }

    /**
     * Summary and table as one object: strategy, metric (val_loss, lower wins), trials_run,
     * best_trial, best_params, best_val_loss and trials (each as {@link Trial#toMap()}).
     */
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("strategy", strategy.toString());
      m.put("metric", "val_loss");
      m.put("trials_run", trials.size());
      m.put("best_trial", best);
      m.put("best_params", bestTrial().params().toMap());
      m.put("best_val_loss", bestTrial().valLoss());
      List<Map<String, Object>> rows = new ArrayList<>();
      trials.forEach(t -> rows.add(t.toMap()));
      m.put("trials", rows);
      return m;
    }

    /** {@link #toMap()} as indented JSON. */
    public String toJson() {
      return Json.pretty(toMap());
    }

    private static String num(double v) {
      return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }
  }
}
