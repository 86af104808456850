// Tiny client used by kafka.sh. kafka-tools (TopicCommand, ClusterTool, console
// producer/consumer) is not published to Maven Central for Kafka 4.x, so the
// readiness check and smoke test talk to the broker through kafka-clients.
//
//   KafkaProbe ready  <bootstrap> [timeoutMs]   cluster answers a metadata call
//   KafkaProbe smoke  <bootstrap> [topic]       create topic, produce 1, read it back
//   KafkaProbe topics <bootstrap>               list topic names
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class KafkaProbe {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: KafkaProbe ready|smoke|topics <bootstrap> [arg]");
            System.exit(2);
        }
        String bootstrap = args[1];
        try {
            switch (args[0]) {
                case "ready" -> ready(bootstrap, args.length > 2 ? Integer.parseInt(args[2]) : 5000);
                case "smoke" -> smoke(bootstrap, args.length > 2 ? args[2] : "spillway.local.smoke");
                case "topics" -> topics(bootstrap);
                default -> {
                    System.err.println("unknown command: " + args[0]);
                    System.exit(2);
                }
            }
        } catch (ExecutionException e) {
            System.err.println(args[0] + " failed: " + e.getCause());
            System.exit(1);
        } catch (Exception e) {
            System.err.println(args[0] + " failed: " + e);
            System.exit(1);
        }
    }

    private static Admin admin(String bootstrap, int timeoutMs) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        // Fail fast instead of retrying for minutes: the caller polls.
        p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 200);
        return Admin.create(p);
    }

    private static void ready(String bootstrap, int timeoutMs) throws Exception {
        try (Admin admin = admin(bootstrap, timeoutMs)) {
            DescribeClusterResult r = admin.describeCluster();
            String id = r.clusterId().get(timeoutMs, TimeUnit.MILLISECONDS);
            int nodes = r.nodes().get(timeoutMs, TimeUnit.MILLISECONDS).size();
            System.out.println("cluster " + id + ", " + nodes + " broker(s)");
        }
    }

    private static void topics(String bootstrap) throws Exception {
        try (Admin admin = admin(bootstrap, 10000)) {
            Set<String> names = new TreeSet<>(admin.listTopics().names().get(10, TimeUnit.SECONDS));
            names.forEach(System.out::println);
        }
    }

    private static void smoke(String bootstrap, String topic) throws Exception {
        try (Admin admin = admin(bootstrap, 15000)) {
            try {
                admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(15, TimeUnit.SECONDS);
                System.out.println("created topic " + topic);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) throw e;
                System.out.println("topic " + topic + " already exists");
            }
        }

        String value = "smoke-" + UUID.randomUUID();
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        RecordMetadata md;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            md = producer.send(new ProducerRecord<>(topic, 0, "k", value)).get(15, TimeUnit.SECONDS);
        }
        System.out.println("produced to " + md.topic() + "-" + md.partition() + "@" + md.offset());

        // assign()+seek() rather than a group subscription: no coordinator or
        // rebalance in the loop, so this checks the log itself, quickly.
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        TopicPartition tp = new TopicPartition(md.topic(), md.partition());
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, md.offset());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> rec : consumer.poll(Duration.ofMillis(500))) {
                    if (value.equals(rec.value())) {
                        System.out.println("consumed " + rec.topic() + "-" + rec.partition() + "@" + rec.offset() + " value=" + rec.value());
                        return;
                    }
                }
            }
        }
        throw new IllegalStateException("produced " + value + " but did not read it back within 15 s");
    }
}
