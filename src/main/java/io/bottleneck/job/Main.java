package io.bottleneck.job;
public class Main { public static void main(String[] a) {} }
