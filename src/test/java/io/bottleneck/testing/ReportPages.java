package io.bottleneck.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.bottleneck.io.Json;
import java.nio.file.Path;

/** Checks a run report the way a reader sees it: rendered by headless Chromium, offline. */
public final class ReportPages {
  /**
   * Every image's decoded size, and how many distinct colours it shows when drawn to a 64×64
   * canvas (a blank or broken image has one).
   */
  private static final String IMAGES_SCRIPT =
      """
      JSON.stringify({
        sections: document.querySelectorAll('section').length,
        images: [...document.images].map(img => {
          const c = document.createElement('canvas'); c.width = 64; c.height = 64;
          const g = c.getContext('2d'); g.drawImage(img, 0, 0, 64, 64);
          const px = g.getImageData(0, 0, 64, 64).data; const colours = new Set();
          for (let i = 0; i < px.length; i += 4) colours.add(px[i] << 16 | px[i + 1] << 8 | px[i + 2]);
          return {kind: img.className, alt: img.alt, complete: img.complete, width: img.naturalWidth,
                  height: img.naturalHeight, colours: colours.size};
        })
      })
      """;

  private ReportPages() {}

  /**
   * Loads {@code page} in Chromium and asserts: it requested nothing but itself and its inline
   * data: images, logged no error (a Content-Security-Policy violation would be one), has at
   * least {@code minPlots} plots and {@code minThumbnails} thumbnails, and every image decoded
   * to a non-empty, non-blank picture.
   *
   * @return the number of images checked
   */
  public static int assertRendersOffline(Path page, int minPlots, int minThumbnails) throws Exception {
    HeadlessChromium.PageLoad load;
    try (HeadlessChromium chromium = HeadlessChromium.start()) {
      load = chromium.load(page, IMAGES_SCRIPT);
    }
    String pageUrl = page.toUri().toString();
    assertThat(load.requestUrls()).as("requests").isNotEmpty()
        .allSatisfy(url -> assertThat(url.equals(pageUrl) || url.startsWith("data:image/")).as(url).isTrue());
    assertThat(load.logEntries()).as("console and log entries").noneMatch(e -> e.startsWith("error"));
    JsonNode result = Json.mapper().readTree(load.scriptResult().asText());
    assertThat(result.path("sections").asInt()).as("sections").isGreaterThanOrEqualTo(2);
    int plots = 0;
    int thumbnails = 0;
    for (JsonNode img : result.path("images")) {
      String what = img.path("kind").asText() + " " + img.path("alt").asText();
      assertThat(img.path("complete").asBoolean()).as(what + " complete").isTrue();
      assertThat(img.path("width").asInt()).as(what + " width").isPositive();
      assertThat(img.path("height").asInt()).as(what + " height").isPositive();
      assertThat(img.path("colours").asInt()).as(what + " distinct colours").isGreaterThan(2);
      if (img.path("kind").asText().equals("plot")) {
        plots++;
      } else {
        thumbnails++;
      }
    }
    assertThat(plots).as("plots").isGreaterThanOrEqualTo(minPlots);
    assertThat(thumbnails).as("thumbnails").isGreaterThanOrEqualTo(minThumbnails);
    return plots + thumbnails;
  }
}
