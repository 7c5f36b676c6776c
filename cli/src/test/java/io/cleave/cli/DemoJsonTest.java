package io.cleave.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

/** {@code cleave demo --json}: the main job's result as one JSON document on stdout, nothing else there. */
class DemoJsonTest {
    @Test
    void demoJson_isOneDocument_withEveryPlansSummary() {
        CliMisuseTest.Run r = CliMisuseTest.cleave("demo", "--images", "30", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonObject doc = JsonParser.parseString(r.out()).getAsJsonObject(); // throws on anything but one JSON document
        assertThat(doc.get("images").getAsInt()).isEqualTo(30);
        JsonArray plans = doc.getAsJsonArray("plans");
        assertThat(plans).hasSize(4);
        for (var p : plans) {
            JsonObject plan = p.getAsJsonObject();
            assertThat(plan.get("requests").getAsInt()).isEqualTo(30);
            assertThat(plan.get("answered").getAsInt() + plan.get("errors").getAsInt()).isEqualTo(30);
            assertThat(plan.get("accuracy_at_deadline").getAsDouble()).isBetween(0.0, 1.0);
            int byExit = plan.getAsJsonObject("answered_by").entrySet().stream()
                    .mapToInt(e -> e.getValue().getAsJsonObject().get("count").getAsInt()).sum();
            assertThat(byExit).isEqualTo(plan.get("answered").getAsInt());
        }
        assertThat(plans.get(0).getAsJsonObject().getAsJsonObject("answered_by").keySet()).allMatch(k -> k.contains("local"));
        assertThat(plans.get(3).getAsJsonObject().get("last_decision").getAsString()).startsWith("cleave");
    }
}
