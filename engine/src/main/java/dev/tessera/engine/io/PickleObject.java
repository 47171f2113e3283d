package dev.tessera.engine.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An inert stand-in for an allowed non-tensor Python object found in training checkpoints ({@code argparse.Namespace},
 * sets, numpy scalars...). It only records what the pickle said about the object: its type name, constructor
 * arguments, state and any items appended or set on it. Nothing is ever executed to build it.
 */
final class PickleObject {
    private final String type;
    private final List<Object> args;
    private final List<Object> listItems = new ArrayList<>();
    private final Map<Object, Object> dictItems = new LinkedHashMap<>();
    private Object state;

    PickleObject(String type, List<Object> args) {
        this.type = type;
        this.args = args;
    }

    /** The Python type, e.g. {@code argparse.Namespace}. */
    String type() {
        return type;
    }

    List<Object> args() {
        return args;
    }

    /** What BUILD set ({@code __setstate__} / {@code __dict__} content), or null. */
    Object state() {
        return state;
    }

    void setState(Object state) {
        this.state = state;
    }

    /** Items added by APPEND(S) or ADDITEMS (a set's members). */
    List<Object> listItems() {
        return listItems;
    }

    /** Items added by SETITEM(S). */
    Map<Object, Object> dictItems() {
        return dictItems;
    }

    /** Deliberately shallow: the arguments may be deep or self-referencing structures. */
    @Override
    public String toString() {
        return "<" + type + ">";
    }
}
