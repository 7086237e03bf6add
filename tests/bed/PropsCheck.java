// The JDK's own reading of .properties files, for tests/bed/props_check.py: for each FILE, a JSON
// line {"file": FILE, "props": {key: value...}} or {"file": FILE, "error": MESSAGE} as
// java.util.Properties.load(Reader) reads it (UTF-8 text). Run with the JDK's source launcher:
//   java tests/bed/PropsCheck.java FILE...
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.TreeMap;

public class PropsCheck {
    static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    public static void main(String[] args) throws Exception {
        for (String file : args) {
            StringBuilder line = new StringBuilder("{\"file\": ").append(json(file)).append(", ");
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
                p.load(r);
                line.append("\"props\": {");
                String sep = "";
                for (var e : new TreeMap<Object, Object>(p).entrySet()) {
                    line.append(sep).append(json((String) e.getKey())).append(": ").append(json((String) e.getValue()));
                    sep = ", ";
                }
                line.append("}}");
            } catch (IllegalArgumentException e) {
                line.append("\"error\": ").append(json(String.valueOf(e.getMessage()))).append("}");
            }
            System.out.println(line);
        }
    }
}
