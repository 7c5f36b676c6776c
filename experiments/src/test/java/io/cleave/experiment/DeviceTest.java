package io.cleave.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceTest {
    @Test
    void parse_readsLabelBlocksAndSlowdown() {
        assertEquals(new Device("phone", 4, 1), Device.parse("phone:4:1"));
        assertEquals(new Device("iot", 2, 2.5), Device.parse("iot:2:2.5"));
        assertEquals(new Device("none", 0, 1), Device.parse("none:0:1"));
    }

    @Test
    void parse_refusesBadInput_withOneLineNamingIt() {
        for (String bad : List.of("toaster", "phone:4", "phone:4:1:9", ":4:1", "phone:four:1", "phone:4:fast", "phone:-1:1", "phone:4:0.5",
                "phone:4:NaN", "phone:4:Infinity", "a,b:4:1")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--device"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void parse_takesANamedClass_withItsCalibratedBlocksAndSlowdown() {
        io.cleave.edge.DeviceClass pi4 = io.cleave.edge.DeviceClass.named("pi4");
        Device d = Device.parse("pi4");
        assertEquals(new Device("pi4", pi4.kMax(), pi4.slowdown()), d);
        assertTrue(d.describe(1).contains("emulated") && d.describe(1).contains("arXiv:2404.11630"), d.describe(1));
        assertFalse(new Device("pi4", 8, 1).describe(1).contains("arXiv"), "a label that only borrows the name claims no calibration");
    }

    @Test
    void of_labelsTheSingleDeviceOfKMaxAndSlowdown() {
        assertEquals(new Device("k4", 4, 1), Device.of(4, 1));
        assertEquals(new Device("k2-x2", 2, 2), Device.of(2, 2));
        assertEquals(new Device("k2-x2.5", 2, 2.5), Device.of(2, 2.5));
    }

    @Test
    void config_runsEveryDevice_andRefusesDuplicateLabels() {
        Path p = Path.of(".");
        ExperimentConfig two = new ExperimentConfig(p, p, List.of(p, p), List.of("cleave", "oracle", "edge-only"), List.of(20.0, 50.0), 10, 50,
                List.of(Device.parse("phone:4:1"), Device.parse("iot:2:2")), 1, p, io.cleave.link.LinkConditions.CLEAN);
        assertEquals(2 * 2 * 3 * 2, two.runs());
        ExperimentConfig legacy = new ExperimentConfig(p, p, List.of(p), List.of("cleave"), List.of(20.0), 10, 50, 3, 1, p, 1.5,
                io.cleave.link.LinkConditions.CLEAN);
        assertEquals(List.of(new Device("k3-x1.5", 3, 1.5)), legacy.devices());
        assertThrows(IllegalArgumentException.class, () -> new ExperimentConfig(p, p, List.of(p), List.of("cleave"), List.of(20.0), 10, 50,
                List.of(Device.parse("phone:4:1"), Device.parse("phone:2:2")), 1, p, io.cleave.link.LinkConditions.CLEAN));
    }

    @Test
    void requestsCsv_carriesTheDeviceInItsOwnColumn() {
        List<String> header = List.of(RequestRecord.HEADER.split(","));
        RequestRecord r = Records.of("trace-a", "iot", "cleave", 50, 7, 2, true, true);
        String[] cols = r.csv().split(",", -1);
        assertEquals(header.size(), cols.length);
        assertEquals("iot", cols[header.indexOf("device")]);
        assertEquals("trace-a", cols[header.indexOf("trace")]);
        assertEquals("2", cols[header.indexOf("exit_block")]);
        assertEquals("7", cols[header.indexOf("request")]);
    }
}
